/** Masks personal data for lists and for roles that may not see it in full: 138****5678, 张*. */
export function maskPhone(phone: string | null): string | null {
  if (!phone) return phone;
  const p = phone.replace(/\s+/g, '');
  if (p.length >= 7) return `${p.slice(0, 3)}****${p.slice(-4)}`;
  return '*'.repeat(Math.max(1, p.length - 1)) + p.slice(-1);
}

export function maskName(name: string | null): string | null {
  if (!name) return name;
  const chars = [...name.trim()];
  return chars[0] + '*'.repeat(Math.max(1, chars.length - 1));
}
