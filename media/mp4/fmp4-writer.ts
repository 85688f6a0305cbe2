/**
 * Fragmented MP4 (ISO BMFF) writer for one video track: an init segment (ftyp + moov with avcC or hvcC) and one
 * moof + mdat per frame — the same shape ffmpeg writes with `+frag_every_frame+empty_moov+default_base_moof`, so
 * the LL-HLS muxer, frame tap, snapshots and clip source consume it unchanged.
 */
import type { Fragment, InitSegment, TrackInfo } from '../../ingest/fmp4.js';

export const VIDEO_TIMESCALE = 90_000;
const TRACK_ID = 1;
/** sample_depends_on = 2 (an I frame) */
const FLAGS_SYNC = 0x02000000;
/** sample_depends_on = 1, sample_is_non_sync_sample */
const FLAGS_NON_SYNC = 0x01010000;

function box(type: string, ...payload: Buffer[]): Buffer {
  let size = 8;
  for (const p of payload) size += p.length;
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload], size);
}

function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.allocUnsafe(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff));
  return box(type, vf, ...payload);
}

function u32s(...v: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
  return b;
}

const MATRIX = u32s(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

export interface VideoTrackConfig {
  /** 'avc1' (config = avcC) or 'hvc1' (config = hvcC) */
  sampleEntry: 'avc1' | 'hvc1';
  config: Buffer;
  width: number;
  height: number;
  /** RFC 6381 codec string */
  codec: string;
}

export function buildInitSegment(t: VideoTrackConfig): InitSegment {
  const ftyp = box('ftyp', Buffer.from('iso5', 'latin1'), u32s(512), Buffer.from('iso5iso6mp41', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32s(0, 0, 1000, 0, 0x00010000), Buffer.from([0x01, 0x00, 0, 0]), Buffer.alloc(8), MATRIX, Buffer.alloc(24), u32s(TRACK_ID + 1));
  const tkhd = fullBox('tkhd', 0, 3, u32s(0, 0, TRACK_ID, 0, 0), Buffer.alloc(8), Buffer.alloc(8), MATRIX, u32s(t.width * 65536, t.height * 65536));
  const mdhd = fullBox('mdhd', 0, 0, u32s(0, 0, VIDEO_TIMESCALE, 0), Buffer.from([0x55, 0xc4, 0, 0])); // language 'und'
  const hdlr = fullBox('hdlr', 0, 0, u32s(0), Buffer.from('vide', 'latin1'), Buffer.alloc(12), Buffer.from('StreetEye video\0', 'latin1'));
  const vmhd = fullBox('vmhd', 0, 1, Buffer.alloc(8));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32s(1), fullBox('url ', 0, 1)));
  const visual = Buffer.alloc(78);
  visual.writeUInt16BE(1, 6); // data_reference_index
  visual.writeUInt16BE(t.width, 24);
  visual.writeUInt16BE(t.height, 26);
  visual.writeUInt32BE(0x00480000, 28); // 72 dpi
  visual.writeUInt32BE(0x00480000, 32);
  visual.writeUInt16BE(1, 40); // frame_count
  visual.writeUInt16BE(0x0018, 74); // depth
  visual.writeInt16BE(-1, 76);
  const entry = box(t.sampleEntry, visual, box(t.sampleEntry === 'avc1' ? 'avcC' : 'hvcC', t.config));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32s(1), entry),
    fullBox('stts', 0, 0, u32s(0)),
    fullBox('stsc', 0, 0, u32s(0)),
    fullBox('stsz', 0, 0, u32s(0, 0)),
    fullBox('stco', 0, 0, u32s(0)),
  );
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', vmhd, dinf, stbl)));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32s(TRACK_ID, 1, 0, 0, 0)));
  const moov = box('moov', mvhd, trak, mvex);
  const track: TrackInfo = {
    trackId: TRACK_ID,
    timescale: VIDEO_TIMESCALE,
    codec: t.codec,
    sampleEntry: t.sampleEntry,
    width: t.width,
    height: t.height,
    defaultSampleDuration: 0,
    defaultSampleFlags: 0,
  };
  return { data: Buffer.concat([ftyp, moov]), track };
}

/**
 * One frame as moof + mdat. `nals` are the frame's NAL units (without start codes); each gets a 4-byte length.
 * `decodeTime` and `duration` are in 90 kHz ticks.
 */
export function buildFragment(sequence: number, decodeTime: number, duration: number, key: boolean, nals: Buffer[]): Fragment {
  let payload = 0;
  for (const n of nals) payload += 4 + n.length;
  // moof 8 + mfhd 16 + traf (8 + tfhd 16 + tfdt 20 + trun 32)
  const moofSize = 8 + 16 + 8 + 16 + 20 + 32;
  const total = moofSize + 8 + payload;
  const b = Buffer.allocUnsafe(total);
  let o = 0;
  const w32 = (v: number) => {
    b.writeUInt32BE(v >>> 0, o);
    o += 4;
  };
  const tag = (s: string) => {
    b.write(s, o, 'latin1');
    o += 4;
  };
  w32(moofSize); tag('moof');
  w32(16); tag('mfhd'); w32(0); w32(sequence);
  w32(8 + 16 + 20 + 32); tag('traf');
  w32(16); tag('tfhd'); w32(0x020000); w32(TRACK_ID); // default-base-is-moof
  w32(20); tag('tfdt'); w32(0x01000000);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(decodeTime))), o);
  o += 8;
  w32(32); tag('trun'); w32(0x000701); w32(1); // data offset, sample duration, size, flags
  w32(moofSize + 8); w32(duration); w32(payload); w32(key ? FLAGS_SYNC : FLAGS_NON_SYNC);
  w32(8 + payload); tag('mdat');
  for (const n of nals) {
    w32(n.length);
    n.copy(b, o);
    o += n.length;
  }
  return { data: b, sequence, baseDecodeTime: decodeTime, duration, timescale: VIDEO_TIMESCALE, sampleCount: 1, independent: key, keyframes: key ? 1 : 0 };
}
