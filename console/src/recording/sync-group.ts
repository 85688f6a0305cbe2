/**
 * Synchronised playback of up to 4 tiles: tiles that join the group follow one wall-clock position. A seek (or a rate
 * change) in any member is broadcast to the others; each member maps the wall time onto its own playlist.
 */
export const SYNC_MAX = 4;

type Listener = (e: { atMs: number; rate: number; from: string }) => void;
const members = new Map<string, Listener>();

export function joinSync(id: string, fn: Listener): boolean {
  if (!members.has(id) && members.size >= SYNC_MAX) return false;
  members.set(id, fn);
  return true;
}

export function leaveSync(id: string): void {
  members.delete(id);
}

export function inSync(id: string): boolean {
  return members.has(id);
}

export function broadcastSeek(from: string, atMs: number, rate: number): void {
  if (!members.has(from)) return;
  for (const [id, fn] of members) if (id !== from) fn({ atMs, rate, from });
}
