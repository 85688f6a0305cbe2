/**
 * Fragmented-MP4 box parser for the stream ffmpeg writes on its stdout
 * (`-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof`).
 *
 * It splits the byte stream into the init segment (ftyp+moov) and media fragments (moof+mdat) and reads,
 * from the boxes themselves, everything the LL-HLS muxer needs: the decode time of each fragment (tfdt),
 * its duration (trun/tfhd/trex sample durations), whether it starts on a sync sample, and the track's
 * codec, size and timescale. Nothing here depends on arrival time.
 */

import { body, children, find, type Box } from '../media/mp4/boxes.js';

export interface TrackInfo {
  trackId: number;
  timescale: number;
  /** RFC 6381 codec string, e.g. avc1.64001f; undefined when the sample entry is unknown */
  codec?: string;
  /** sample entry fourcc: avc1, hvc1, hev1, ... */
  sampleEntry?: string;
  width?: number;
  height?: number;
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

export interface InitSegment {
  data: Buffer;
  track: TrackInfo;
}

export interface Fragment {
  /** moof + mdat bytes, playable after the init segment */
  data: Buffer;
  sequence: number;
  /** tfdt baseMediaDecodeTime in track timescale units */
  baseDecodeTime: number;
  /** sum of sample durations, timescale units */
  duration: number;
  timescale: number;
  sampleCount: number;
  /** first sample is a sync sample (keyframe) */
  independent: boolean;
  /** number of sync samples in the fragment */
  keyframes: number;
}

const SAMPLE_NON_SYNC = 0x00010000;

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Parse moov: first video track (or first track) with timescale, codec, size, trex defaults. */
export function parseMoov(buf: Buffer, moov: Box = { type: 'moov', start: 0, headerSize: 8, size: buf.length }): TrackInfo {
  const [ms, me] = body(moov);
  let chosen: TrackInfo | undefined;
  for (const trak of children(buf, ms, me)) {
    if (trak.type !== 'trak') continue;
    const [ts, te] = body(trak);
    const info: TrackInfo = { trackId: 0, timescale: 0, defaultSampleDuration: 0, defaultSampleFlags: 0 };
    const tkhd = find(buf, ts, te, 'tkhd');
    if (tkhd) {
      const [p] = body(tkhd);
      const version = buf[p];
      info.trackId = version === 1 ? buf.readUInt32BE(p + 4 + 16) : buf.readUInt32BE(p + 4 + 8);
      const wOff = tkhd.start + tkhd.size - 8;
      const w = buf.readUInt32BE(wOff) / 65536;
      const h = buf.readUInt32BE(wOff + 4) / 65536;
      if (w > 0 && h > 0) {
        info.width = Math.round(w);
        info.height = Math.round(h);
      }
    }
    const mdia = find(buf, ts, te, 'mdia');
    let isVideo = false;
    if (mdia) {
      const [as, ae] = body(mdia);
      const mdhd = find(buf, as, ae, 'mdhd');
      if (mdhd) {
        const [p] = body(mdhd);
        info.timescale = buf[p] === 1 ? buf.readUInt32BE(p + 4 + 16) : buf.readUInt32BE(p + 4 + 8);
      }
      const hdlr = find(buf, as, ae, 'hdlr');
      if (hdlr) isVideo = buf.toString('latin1', hdlr.start + hdlr.headerSize + 8, hdlr.start + hdlr.headerSize + 12) === 'vide';
      const minf = find(buf, as, ae, 'minf');
      const stbl = minf && find(buf, ...body(minf), 'stbl');
      const stsd = stbl && find(buf, ...body(stbl), 'stsd');
      if (stsd) {
        const [p, e] = body(stsd);
        // full box (4) + entry_count (4), then sample entries
        for (const entry of children(buf, p + 8, e)) {
          info.sampleEntry = entry.type;
          const es = entry.start + entry.headerSize;
          // VisualSampleEntry: 6 reserved + 2 dref idx + 16 pre_defined/reserved, then width, height
          if (es + 28 <= entry.start + entry.size) {
            info.width = buf.readUInt16BE(es + 24) || info.width;
            info.height = buf.readUInt16BE(es + 26) || info.height;
          }
          const inner = es + 78; // end of VisualSampleEntry fixed fields
          if (entry.type === 'avc1' || entry.type === 'avc3') {
            const avcC = find(buf, inner, entry.start + entry.size, 'avcC');
            if (avcC) {
              const q = avcC.start + avcC.headerSize;
              info.codec = `${entry.type}.${hex2(buf[q + 1])}${hex2(buf[q + 2])}${hex2(buf[q + 3])}`;
            } else info.codec = entry.type;
          } else if (entry.type === 'hvc1' || entry.type === 'hev1') {
            info.codec = entry.type; // a full HEVC codec string is not needed for stats
          } else {
            info.codec = entry.type;
          }
          break;
        }
      }
    }
    if (!chosen || (isVideo && !chosen.sampleEntry)) chosen = info;
    if (isVideo) {
      chosen = info;
      break;
    }
  }
  if (!chosen) throw new Error('moov without a track');
  const mvex = find(buf, ms, me, 'mvex');
  if (mvex) {
    for (const trex of children(buf, ...body(mvex))) {
      if (trex.type !== 'trex') continue;
      const [p] = body(trex);
      if (buf.readUInt32BE(p + 4) !== chosen.trackId) continue;
      chosen.defaultSampleDuration = buf.readUInt32BE(p + 12);
      chosen.defaultSampleFlags = buf.readUInt32BE(p + 20);
    }
  }
  return chosen;
}

/** Parse one moof for the given track: decode time, duration, sample count and sync flags. */
export function parseMoof(buf: Buffer, moof: Box, track: TrackInfo): Omit<Fragment, 'data' | 'timescale'> {
  const [ms, me] = body(moof);
  let sequence = 0;
  const mfhd = find(buf, ms, me, 'mfhd');
  if (mfhd) sequence = buf.readUInt32BE(mfhd.start + mfhd.headerSize + 4);
  for (const traf of children(buf, ms, me)) {
    if (traf.type !== 'traf') continue;
    const [ts, te] = body(traf);
    const tfhd = find(buf, ts, te, 'tfhd');
    if (!tfhd) continue;
    let p = tfhd.start + tfhd.headerSize;
    const tfFlags = buf.readUInt32BE(p) & 0xffffff;
    const trackId = buf.readUInt32BE(p + 4);
    if (track.trackId && trackId !== track.trackId) continue;
    p += 8;
    if (tfFlags & 0x01) p += 8; // base data offset
    if (tfFlags & 0x02) p += 4; // sample description index
    let defDuration = track.defaultSampleDuration;
    let defFlags = track.defaultSampleFlags;
    if (tfFlags & 0x08) {
      defDuration = buf.readUInt32BE(p);
      p += 4;
    }
    if (tfFlags & 0x10) p += 4; // default sample size
    if (tfFlags & 0x20) {
      defFlags = buf.readUInt32BE(p);
      p += 4;
    }
    let baseDecodeTime = 0;
    const tfdt = find(buf, ts, te, 'tfdt');
    if (tfdt) {
      const q = tfdt.start + tfdt.headerSize;
      baseDecodeTime = buf[q] === 1 ? Number(buf.readBigUInt64BE(q + 4)) : buf.readUInt32BE(q + 4);
    }
    let duration = 0;
    let sampleCount = 0;
    let independent = false;
    let keyframes = 0;
    let first = true;
    for (const trun of children(buf, ts, te)) {
      if (trun.type !== 'trun') continue;
      let q = trun.start + trun.headerSize;
      const flags = buf.readUInt32BE(q) & 0xffffff;
      const count = buf.readUInt32BE(q + 4);
      q += 8;
      if (flags & 0x01) q += 4; // data offset
      let firstFlags: number | undefined;
      if (flags & 0x04) {
        firstFlags = buf.readUInt32BE(q);
        q += 4;
      }
      for (let i = 0; i < count; i++) {
        let d = defDuration;
        let f = defFlags;
        if (flags & 0x100) {
          d = buf.readUInt32BE(q);
          q += 4;
        }
        if (flags & 0x200) q += 4;
        if (flags & 0x400) {
          f = buf.readUInt32BE(q);
          q += 4;
        }
        if (flags & 0x800) q += 4;
        if (i === 0 && firstFlags !== undefined) f = firstFlags;
        const sync = (f & SAMPLE_NON_SYNC) === 0;
        if (sync) keyframes++;
        if (first) {
          independent = sync;
          first = false;
        }
        duration += d;
      }
      sampleCount += count;
    }
    return { sequence, baseDecodeTime, duration, sampleCount, independent, keyframes };
  }
  throw new Error('moof without a fragment for the video track');
}

export interface Fmp4ParserEvents {
  onInit(init: InitSegment): void;
  onFragment(fragment: Fragment): void;
}

/** Incremental parser: feed it stdout chunks; it calls back with the init segment and each fragment. */
export class Fmp4Parser {
  private chunks: Buffer[] = [];
  private length = 0;
  private ftyp?: Buffer;
  private track?: TrackInfo;
  private moof?: Buffer;
  /** bytes seen in total (stats) */
  bytes = 0;
  /** largest accepted box, guards memory against a corrupt size field */
  private readonly maxBox: number;

  constructor(
    private readonly events: Fmp4ParserEvents,
    opts: { maxBoxBytes?: number } = {},
  ) {
    this.maxBox = opts.maxBoxBytes ?? 64 * 1024 * 1024;
  }

  get trackInfo(): TrackInfo | undefined {
    return this.track;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.chunks.push(chunk);
    this.length += chunk.length;
    for (;;) {
      if (this.length < 8) return;
      const head = this.peek(16);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) {
        if (this.length < 16) return;
        size = Number(head.readBigUInt64BE(8));
      }
      if (size < 8 || size > this.maxBox) throw new Error(`fMP4: bad box size ${size} for '${type}'`);
      if (this.length < size) return;
      const box = this.take(size);
      this.onBox(type, box);
    }
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length >= n || this.chunks.length === 1) return first;
    return Buffer.concat(this.chunks, Math.min(n, this.length));
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length === n) {
      this.chunks.shift();
      out = first;
    } else if (first.length > n) {
      out = first.subarray(0, n);
      this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.length);
      out = all.subarray(0, n);
      const rest = all.subarray(n);
      this.chunks = rest.length ? [rest] : [];
    }
    this.length -= n;
    return out;
  }

  private onBox(type: string, box: Buffer): void {
    switch (type) {
      case 'ftyp':
        this.ftyp = Buffer.from(box);
        return;
      case 'moov': {
        const track = parseMoov(box);
        this.track = track;
        const data = Buffer.concat(this.ftyp ? [this.ftyp, box] : [box]);
        this.events.onInit({ data, track });
        return;
      }
      case 'moof':
        this.moof = box;
        return;
      case 'mdat': {
        if (!this.moof || !this.track) return; // mdat without moof (not fragmented): ignore
        const moof = this.moof;
        this.moof = undefined;
        const info = parseMoof(moof, { type: 'moof', start: 0, headerSize: 8, size: moof.length }, this.track);
        // copy: the parts outlive the pipe's chunk buffers and must not pin bigger slabs
        const data = Buffer.allocUnsafe(moof.length + box.length);
        moof.copy(data, 0);
        box.copy(data, moof.length);
        this.events.onFragment({ ...info, data, timescale: this.track.timescale });
        return;
      }
      default:
        return; // free, styp, sidx, mfra, ...
    }
  }
}
