/**
 * The decode times of fMP4 fragments (moof/traf/tfdt baseMediaDecodeTime): read the first, or move all of them by an
 * offset. Export rebases each run of a recording to start at 0 before the concat demuxer joins runs (ffmpeg counts a
 * fragmented file's duration from decode time 0, so a run starting at 7 s would be placed 7 s late); bench:record lays
 * copies of a recording end to end.
 */
import { body, children } from '../../media/mp4/boxes.js';

/** Calls fn with the payload offset and version of each moof/traf/tfdt. */
function visitTfdt(buf: Buffer, fn: (at: number, version: number) => void): void {
  const walk = (start: number, end: number, parent: string) => {
    for (const b of children(buf, start, end)) {
      const [p] = body(b);
      if (b.type === 'moof' || b.type === 'traf') walk(...body(b), b.type);
      else if (b.type === 'tfdt' && parent === 'traf' && b.size >= b.headerSize + 8) fn(p, buf[p]);
    }
  };
  walk(0, buf.length, '');
}

/** baseMediaDecodeTime of the first fragment (timescale units), undefined when there is none. */
export function firstDecodeTime(buf: Buffer): bigint | undefined {
  let first: bigint | undefined;
  visitTfdt(buf, (at, version) => {
    first ??= version === 1 ? buf.readBigUInt64BE(at + 4) : BigInt(buf.readUInt32BE(at + 4));
  });
  return first;
}

/** A copy of `buf` with every fragment's decode time moved by `by` timescale units (never below 0). */
export function shiftDecodeTimes(buf: Buffer, by: bigint): Buffer {
  const out = Buffer.from(buf);
  visitTfdt(out, (at, version) => {
    if (version === 1) {
      const v = out.readBigUInt64BE(at + 4) + by;
      out.writeBigUInt64BE(v < 0n ? 0n : v, at + 4);
    } else {
      const v = BigInt(out.readUInt32BE(at + 4)) + by;
      out.writeUInt32BE(Number(v < 0n ? 0n : v & 0xffffffffn), at + 4);
    }
  });
  return out;
}
