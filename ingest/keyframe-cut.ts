/**
 * Cuts the first sample (a keyframe) out of an fMP4 media fragment (moof+mdat, as ffmpeg and the native engine
 * write them: `default_base_moof`) and writes it as a fragment of its own with a new duration. No decoding: the
 * sample's bytes are copied as they are; only the boxes around them are new. The keyframe-only rendition
 * (keyframe-rendition.ts) is built from these.
 */
import type { Fragment, TrackInfo } from './fmp4.js';

const SAMPLE_NON_SYNC = 0x00010000;

interface BoxAt { type: string; start: number; body: number; end: number }

function boxes(buf: Buffer, start: number, end: number): BoxAt[] {
  const out: BoxAt[] = [];
  let off = start;
  while (off + 8 <= end) {
    let size = buf.readUInt32BE(off);
    let header = 8;
    if (size === 1) {
      if (off + 16 > end) break;
      size = Number(buf.readBigUInt64BE(off + 8));
      header = 16;
    } else if (size === 0) size = end - off;
    if (size < header || off + size > end) break;
    out.push({ type: buf.toString('latin1', off + 4, off + 8), start: off, body: off + header, end: off + size });
    off += size;
  }
  return out;
}

export interface FirstSample {
  data: Buffer;
  baseDecodeTime: number;
  flags: number;
  /** composition time offset (signed) */
  cto: number;
  sequence: number;
}

/** The first sample of the first fragment in `buf` (which may hold several moof+mdat pairs), or undefined. */
export function firstSample(buf: Buffer, track: TrackInfo): FirstSample | undefined {
  const top = boxes(buf, 0, buf.length);
  const mi = top.findIndex((b) => b.type === 'moof');
  if (mi < 0) return undefined;
  const moof = top[mi];
  const mdat = top.slice(mi + 1).find((b) => b.type === 'mdat');
  if (!mdat) return undefined;
  let sequence = 0;
  for (const b of boxes(buf, moof.body, moof.end)) {
    if (b.type === 'mfhd') sequence = buf.readUInt32BE(b.body + 4);
    if (b.type !== 'traf') continue;
    const kids = boxes(buf, b.body, b.end);
    const tfhd = kids.find((k) => k.type === 'tfhd');
    const trun = kids.find((k) => k.type === 'trun');
    if (!tfhd || !trun) continue;
    let p = tfhd.body;
    const tfFlags = buf.readUInt32BE(p) & 0xffffff;
    if (track.trackId && buf.readUInt32BE(p + 4) !== track.trackId) continue;
    // an absolute base-data-offset points into a file we do not have
    if (tfFlags & 0x01) return undefined;
    p += 8;
    if (tfFlags & 0x02) p += 4;
    if (tfFlags & 0x08) p += 4;
    let size = 0;
    let flags = track.defaultSampleFlags;
    if (tfFlags & 0x10) { size = buf.readUInt32BE(p); p += 4; }
    if (tfFlags & 0x20) { flags = buf.readUInt32BE(p); p += 4; }
    const tfdt = kids.find((k) => k.type === 'tfdt');
    const baseDecodeTime = !tfdt ? 0 : buf[tfdt.body] === 1 ? Number(buf.readBigUInt64BE(tfdt.body + 4)) : buf.readUInt32BE(tfdt.body + 4);
    let q = trun.body;
    const version = buf[q];
    const trFlags = buf.readUInt32BE(q) & 0xffffff;
    const count = buf.readUInt32BE(q + 4);
    if (count < 1) return undefined;
    q += 8;
    let dataStart = mdat.body;
    if (trFlags & 0x01) { dataStart = moof.start + buf.readInt32BE(q); q += 4; }
    if (trFlags & 0x04) { flags = buf.readUInt32BE(q); q += 4; }
    if (trFlags & 0x100) q += 4;
    if (trFlags & 0x200) { size = buf.readUInt32BE(q); q += 4; }
    if (trFlags & 0x400 && !(trFlags & 0x04)) flags = buf.readUInt32BE(q);
    if (trFlags & 0x400) q += 4;
    let cto = 0;
    if (trFlags & 0x800) cto = version === 0 ? buf.readUInt32BE(q) : buf.readInt32BE(q);
    if (!size) size = mdat.end - mdat.body;
    if (dataStart < mdat.body || dataStart + size > mdat.end) return undefined;
    return { data: buf.subarray(dataStart, dataStart + size), baseDecodeTime, flags, cto, sequence };
  }
  return undefined;
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const len = 8 + payload.reduce((a, b) => a + b.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(len, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload], len);
}

/** moof+mdat holding one sample. */
export function oneSampleFragment(track: TrackInfo, s: { data: Buffer; baseDecodeTime: number; duration: number; flags: number; cto: number; sequence: number }): Buffer {
  const mfhd = Buffer.alloc(8);
  mfhd.writeUInt32BE(s.sequence >>> 0, 4);
  const tfhd = Buffer.alloc(8);
  tfhd.writeUInt32BE(0x020000, 0); // default-base-is-moof
  tfhd.writeUInt32BE(track.trackId || 1, 4);
  const tfdt = Buffer.alloc(12);
  tfdt.writeUInt32BE(0x01000000, 0); // version 1: 64-bit decode time
  tfdt.writeBigUInt64BE(BigInt(Math.max(0, Math.round(s.baseDecodeTime))), 4);
  const trun = Buffer.alloc(28);
  trun.writeUInt32BE(0x01000000 | 0x01 | 0x100 | 0x200 | 0x400 | 0x800, 0); // version 1: signed offsets
  trun.writeUInt32BE(1, 4);
  // data offset filled below, once the moof's size is known
  trun.writeUInt32BE(Math.max(1, Math.round(s.duration)), 12);
  trun.writeUInt32BE(s.data.length, 16);
  trun.writeUInt32BE((s.flags & ~SAMPLE_NON_SYNC) >>> 0, 20);
  trun.writeInt32BE(s.cto | 0, 24);
  const trafBoxes = [box('tfhd', tfhd), box('tfdt', tfdt)];
  const trunSize = 8 + trun.length;
  const moofSize = 8 + (8 + mfhd.length) + 8 + trafBoxes.reduce((a, b) => a + b.length, 0) + trunSize;
  trun.writeInt32BE(moofSize + 8, 8);
  const moof = box('moof', box('mfhd', mfhd), box('traf', ...trafBoxes, box('trun', trun)));
  return Buffer.concat([moof, box('mdat', s.data)]);
}

/**
 * The keyframe at the start of `data` as a one-sample fragment lasting `durationS` (the time to the next
 * keyframe, as well as it is known), or undefined when the data does not start with a keyframe.
 */
export function keyframeFragment(data: Buffer, track: TrackInfo, durationS: number): Fragment | undefined {
  const s = firstSample(data, track);
  if (!s || s.flags & SAMPLE_NON_SYNC) return undefined;
  const ts = track.timescale || 90_000;
  const duration = Math.max(1, Math.round(durationS * ts));
  const out = oneSampleFragment(track, { ...s, duration });
  return { data: out, sequence: s.sequence, baseDecodeTime: s.baseDecodeTime, duration, timescale: ts, sampleCount: 1, independent: true, keyframes: 1 };
}
