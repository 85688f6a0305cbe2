/**
 * Trick play above 4x: a GOP shrinks to its keyframe, which lasts as long as the whole GOP. The keyframe's own bytes
 * are copied into a new moof+mdat (one sample, same decode time, duration = the GOP's): a remux of the box headers,
 * never a re-encode. Played at 8x–16x, the browser decodes only a keyframe or two per second of screen time.
 */
import { body, find } from '../../media/mp4/boxes.js';

function box(type: string, ...payload: Buffer[]): Buffer {
  const content = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + content.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, content]);
}

export interface KeyframeSample {
  trackId: number;
  baseDecodeTime: bigint;
  size: number;
  flags: number;
  cto: number;
  data: Buffer;
}

/** The first sample (the keyframe) of one moof+mdat fragment (default-base-is-moof, as ffmpeg and StreetEye write). */
export function firstSample(frag: Buffer, defaults: { size?: number; flags?: number } = {}): KeyframeSample | undefined {
  const moof = find(frag, 0, frag.length, 'moof');
  if (!moof) return undefined;
  const traf = find(frag, ...body(moof), 'traf');
  if (!traf) return undefined;
  const tfhd = find(frag, ...body(traf), 'tfhd');
  const trun = find(frag, ...body(traf), 'trun');
  if (!tfhd || !trun) return undefined;
  let p = body(tfhd)[0];
  const tfFlags = frag.readUInt32BE(p) & 0xffffff;
  const trackId = frag.readUInt32BE(p + 4);
  p += 8;
  let base = BigInt(moof.start);
  if (tfFlags & 0x01) { base = frag.readBigUInt64BE(p); p += 8; }
  if (tfFlags & 0x02) p += 4;
  if (tfFlags & 0x08) p += 4;
  let defSize = defaults.size ?? 0;
  let defFlags = defaults.flags ?? 0;
  if (tfFlags & 0x10) { defSize = frag.readUInt32BE(p); p += 4; }
  if (tfFlags & 0x20) { defFlags = frag.readUInt32BE(p); p += 4; }
  let baseDecodeTime = 0n;
  const tfdt = find(frag, ...body(traf), 'tfdt');
  if (tfdt) {
    const q = body(tfdt)[0];
    baseDecodeTime = frag[q] === 1 ? frag.readBigUInt64BE(q + 4) : BigInt(frag.readUInt32BE(q + 4));
  }
  let q = body(trun)[0];
  const version = frag[q];
  const flags = frag.readUInt32BE(q) & 0xffffff;
  const count = frag.readUInt32BE(q + 4);
  q += 8;
  if (!count) return undefined;
  let dataOffset = 0;
  if (flags & 0x01) { dataOffset = frag.readInt32BE(q); q += 4; }
  let firstFlags: number | undefined;
  if (flags & 0x04) { firstFlags = frag.readUInt32BE(q); q += 4; }
  if (flags & 0x100) q += 4;
  let size = defSize;
  if (flags & 0x200) { size = frag.readUInt32BE(q); q += 4; }
  let sflags = defFlags;
  if (flags & 0x400) { sflags = frag.readUInt32BE(q); q += 4; }
  if (firstFlags !== undefined) sflags = firstFlags;
  let cto = 0;
  if (flags & 0x800) cto = version === 0 ? frag.readUInt32BE(q) : frag.readInt32BE(q);
  const start = Number(base) + dataOffset;
  if (!size || start < 0 || start + size > frag.length) return undefined;
  return { trackId, baseDecodeTime, size, flags: sflags, cto, data: frag.subarray(start, start + size) };
}

/** One moof+mdat with the sample alone, lasting `duration` (track timescale). */
export function keyframeFragment(s: KeyframeSample, duration: number, sequence: number): Buffer {
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
  const mfhd = box('mfhd', u32(0), u32(sequence));
  const tfhd = box('tfhd', u32(0x020000), u32(s.trackId)); // default-base-is-moof
  const tfdtBody = Buffer.alloc(12);
  tfdtBody.writeUInt32BE(0x01000000, 0);
  tfdtBody.writeBigUInt64BE(s.baseDecodeTime, 4);
  const tfdt = box('tfdt', tfdtBody);
  const trunFlags = 0x01 | 0x100 | 0x200 | 0x400 | 0x800;
  const trunBody = Buffer.alloc(4 + 4 + 4 + 16);
  trunBody.writeUInt32BE(0x01000000 | trunFlags, 0); // version 1: signed composition offsets
  trunBody.writeUInt32BE(1, 4);
  // data offset (filled below), then the one sample
  trunBody.writeUInt32BE(Math.max(1, Math.round(duration)), 12);
  trunBody.writeUInt32BE(s.size, 16);
  trunBody.writeUInt32BE((s.flags & ~0x00010000) >>> 0, 20); // a sync sample
  trunBody.writeInt32BE(s.cto | 0, 24);
  const trafLen = 8 + tfhd.length + tfdt.length + 8 + trunBody.length;
  const moofLen = 8 + mfhd.length + trafLen;
  trunBody.writeInt32BE(moofLen + 8, 8);
  const moof = box('moof', mfhd, box('traf', tfhd, tfdt, box('trun', trunBody)));
  const mdatHead = Buffer.alloc(8);
  mdatHead.writeUInt32BE(8 + s.size, 0);
  mdatHead.write('mdat', 4, 'latin1');
  return Buffer.concat([moof, mdatHead, s.data]);
}
