/**
 * The little XML the simulator's SOAP services need: escaping, and finding one element by local name
 * (any prefix, attributes read). Requests from real clients are small and flat, so regexes on the text
 * are enough; nothing here is a general XML parser.
 */

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function xmlUnescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!;
  });
}

/** Text content of the first non-empty element with this local name (raw, not unescaped). */
export function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(xml);
  return m?.[1].trim();
}

export interface XmlElement {
  /** Attributes by local name (prefixes and xmlns declarations dropped), unescaped. */
  attrs: Record<string, string>;
  /** Raw inner text ('' for a self-closing element). */
  inner: string;
}

/** First element with this local name, self-closing (`<PanTilt x="1" y="0"/>`) or not. */
export function element(xml: string, name: string): XmlElement | undefined {
  const m = new RegExp(`<(?:[\\w-]+:)?${name}((?:\\s[^>]*?)?)(?:/>|>([\\s\\S]*?)</(?:[\\w-]+:)?${name}\\s*>)`).exec(xml);
  if (!m) return undefined;
  const attrs: Record<string, string> = {};
  for (const a of m[1].matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (a[1] === 'xmlns' || a[1].startsWith('xmlns:')) continue;
    attrs[a[1].replace(/^[\w.-]+:/, '')] = xmlUnescape(a[2] ?? a[3] ?? '');
  }
  return { attrs, inner: m[2] ?? '' };
}
