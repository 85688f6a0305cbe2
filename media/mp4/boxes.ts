/**
 * ISO BMFF box iteration, the one reader of box headers for every fMP4 walker (the fragment parser, the recording's
 * decode-time rebase and trick play, the PS muxer's access units): 32-bit sizes, 64-bit `largesize` (size 1) and
 * "to the end" (size 0). A box that does not fit its parent ends the walk: what was read before it stands.
 */

export interface Box {
  type: string;
  /** offset of the box header within the buffer */
  start: number;
  /** 8, or 16 with a 64-bit size */
  headerSize: number;
  /** the whole box, header included */
  size: number;
}

/** The boxes in buf[start, end), in order. */
export function* children(buf: Buffer, start: number, end: number): Generator<Box> {
  let off = start;
  while (off + 8 <= end) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    let headerSize = 8;
    if (size === 1) {
      if (off + 16 > end) return;
      size = Number(buf.readBigUInt64BE(off + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = end - off;
    }
    if (size < headerSize || off + size > end) return;
    yield { type, start: off, headerSize, size };
    off += size;
  }
}

/** The first box of `type` in buf[start, end). */
export function find(buf: Buffer, start: number, end: number, type: string): Box | undefined {
  for (const b of children(buf, start, end)) if (b.type === type) return b;
  return undefined;
}

/** [start, end) of a box's payload. */
export function body(b: Box): [number, number] {
  return [b.start + b.headerSize, b.start + b.size];
}

/** The box at the end of `path` under `parent` (e.g. ['mdia', 'minf', 'stbl', 'stsd'] under a trak). */
export function findPath(buf: Buffer, parent: Box, path: string[]): Box | undefined {
  let cur: Box | undefined = parent;
  for (const type of path) {
    cur = find(buf, ...body(cur), type);
    if (!cur) return undefined;
  }
  return cur;
}
