/**
 * The session's fMP4 back to access units, for what StreetEye sends as a lower platform (PS over RTP to an upper
 * platform): the init segment's avcC/hvcC gives the parameter sets and the NAL length size; each moof+mdat gives its
 * samples (tfhd/tfdt/trun, default-base-is-moof as ffmpeg and the native muxer write). A sample becomes an Annex-B
 * access unit with 90 kHz PTS/DTS; keyframes carry the parameter sets in front (a PS receiver joins at any keyframe).
 */
import type { AccessUnit, VideoCodec } from './ps.js';

interface Box { type: string; start: number; body: number; end: number }

function* boxes(b: Buffer, from: number, to: number): Generator<Box> {
  let p = from;
  while (p + 8 <= to) {
    let size = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    let body = p + 8;
    if (size === 1) {
      if (p + 16 > to) return;
      size = Number(b.readBigUInt64BE(p + 8));
      body = p + 16;
    } else if (size === 0) size = to - p;
    if (size < body - p || p + size > to) return;
    yield { type, start: p, body, end: p + size };
    p += size;
  }
}

function find(b: Buffer, parent: { body: number; end: number }, path: string[]): Box | undefined {
  let cur: { body: number; end: number } | undefined = parent;
  let found: Box | undefined;
  for (const name of path) {
    found = undefined;
    for (const x of boxes(b, cur!.body, cur!.end)) if (x.type === name) { found = x; break; }
    if (!found) return undefined;
    cur = found;
  }
  return found;
}

export interface TrackConfig {
  codec: VideoCodec;
  timescale: number;
  lengthSize: number;
  /** VPS (H.265), SPS, PPS in decoding order */
  parameterSets: Buffer[];
  trackId: number;
}

/** Read the video track's codec configuration from an init segment (ftyp+moov). */
export function readTrackConfig(init: Buffer): TrackConfig | undefined {
  const moov = [...boxes(init, 0, init.length)].find((x) => x.type === 'moov');
  if (!moov) return undefined;
  for (const trak of boxes(init, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = find(init, trak, ['tkhd']);
    const mdhd = find(init, trak, ['mdia', 'mdhd']);
    const stsd = find(init, trak, ['mdia', 'minf', 'stbl', 'stsd']);
    if (!mdhd || !stsd || !tkhd) continue;
    const timescale = init.readUInt32BE(mdhd.body + (init[mdhd.body] === 1 ? 20 : 12));
    const trackId = init.readUInt32BE(tkhd.body + (init[tkhd.body] === 1 ? 20 : 12));
    // stsd: version/flags, entry count, then sample entries; a VisualSampleEntry's boxes start 78 bytes in
    for (const entry of boxes(init, stsd.body + 8, stsd.end)) {
      const codec: VideoCodec | undefined = entry.type === 'avc1' || entry.type === 'avc3' ? 'h264' : entry.type === 'hvc1' || entry.type === 'hev1' ? 'h265' : undefined;
      if (!codec) continue;
      const cfg = [...boxes(init, entry.body + 78, entry.end)].find((x) => x.type === (codec === 'h264' ? 'avcC' : 'hvcC'));
      if (!cfg) continue;
      const c = init.subarray(cfg.body, cfg.end);
      const sets: Buffer[] = [];
      let lengthSize = 4;
      try {
        if (codec === 'h264') {
          lengthSize = (c[4] & 3) + 1;
          let p = 5;
          const nSps = c[p++] & 0x1f;
          for (let i = 0; i < nSps; i++) { const n = c.readUInt16BE(p); sets.push(Buffer.from(c.subarray(p + 2, p + 2 + n))); p += 2 + n; }
          const nPps = c[p++];
          for (let i = 0; i < nPps; i++) { const n = c.readUInt16BE(p); sets.push(Buffer.from(c.subarray(p + 2, p + 2 + n))); p += 2 + n; }
        } else {
          lengthSize = (c[21] & 3) + 1;
          let p = 23;
          const arrays = c[22];
          for (let a = 0; a < arrays; a++) {
            const count = c.readUInt16BE(p + 1);
            p += 3;
            for (let i = 0; i < count; i++) { const n = c.readUInt16BE(p); sets.push(Buffer.from(c.subarray(p + 2, p + 2 + n))); p += 2 + n; }
          }
        }
      } catch {
        return undefined;
      }
      return { codec, timescale, lengthSize, parameterSets: sets, trackId };
    }
  }
  return undefined;
}

const START = Buffer.from([0, 0, 0, 1]);
const NON_SYNC = 0x00010000;

function nalType(n: Buffer, codec: VideoCodec): number {
  return codec === 'h264' ? n[0] & 0x1f : (n[0] >> 1) & 0x3f;
}

/** The access units of one or more moof+mdat fragments. Malformed boxes end the walk (what was read is returned). */
export function fragmentUnits(frag: Buffer, cfg: TrackConfig): AccessUnit[] {
  const out: AccessUnit[] = [];
  const top = [...boxes(frag, 0, frag.length)];
  for (const moof of top) {
    if (moof.type !== 'moof') continue;
    for (const traf of boxes(frag, moof.body, moof.end)) {
      if (traf.type !== 'traf') continue;
      const tfhd = find(frag, traf, ['tfhd']);
      if (!tfhd || frag.readUInt32BE(tfhd.body + 4) !== cfg.trackId) continue;
      let p = tfhd.body;
      const tf = frag.readUInt32BE(p) & 0xffffff;
      p += 8;
      let base = moof.start;
      if (tf & 0x01) { base = Number(frag.readBigUInt64BE(p)); p += 8; }
      if (tf & 0x02) p += 4;
      let defDur = 0;
      let defSize = 0;
      let defFlags = 0;
      if (tf & 0x08) { defDur = frag.readUInt32BE(p); p += 4; }
      if (tf & 0x10) { defSize = frag.readUInt32BE(p); p += 4; }
      if (tf & 0x20) { defFlags = frag.readUInt32BE(p); p += 4; }
      const tfdt = find(frag, traf, ['tfdt']);
      let dts = tfdt ? (frag[tfdt.body] === 1 ? Number(frag.readBigUInt64BE(tfdt.body + 4)) : frag.readUInt32BE(tfdt.body + 4)) : 0;
      for (const trun of boxes(frag, traf.body, traf.end)) {
        if (trun.type !== 'trun') continue;
        let q = trun.body;
        const version = frag[q];
        const fl = frag.readUInt32BE(q) & 0xffffff;
        const count = frag.readUInt32BE(q + 4);
        q += 8;
        let offset = 0;
        if (fl & 0x01) { offset = frag.readInt32BE(q); q += 4; }
        let firstFlags: number | undefined;
        if (fl & 0x04) { firstFlags = frag.readUInt32BE(q); q += 4; }
        let at = base + offset;
        for (let i = 0; i < count && q <= trun.end; i++) {
          let dur = defDur;
          let size = defSize;
          let flags = i === 0 && firstFlags !== undefined ? firstFlags : defFlags;
          let cto = 0;
          if (fl & 0x100) { dur = frag.readUInt32BE(q); q += 4; }
          if (fl & 0x200) { size = frag.readUInt32BE(q); q += 4; }
          if (fl & 0x400) { const f = frag.readUInt32BE(q); q += 4; if (!(i === 0 && firstFlags !== undefined)) flags = f; }
          if (fl & 0x800) { cto = version === 0 ? frag.readUInt32BE(q) : frag.readInt32BE(q); q += 4; }
          if (at < 0 || at + size > frag.length) return out;
          const sample = frag.subarray(at, at + size);
          at += size;
          const nals: Buffer[] = [];
          for (let r = 0; r + cfg.lengthSize <= sample.length;) {
            const n = cfg.lengthSize === 4 ? sample.readUInt32BE(r) : cfg.lengthSize === 2 ? sample.readUInt16BE(r) : cfg.lengthSize === 1 ? sample[r] : sample.readUIntBE(r, 3);
            r += cfg.lengthSize;
            if (!n || r + n > sample.length) break;
            nals.push(sample.subarray(r, r + n));
            r += n;
          }
          const key = !(flags & NON_SYNC);
          const parts: Buffer[] = [];
          // parameter sets in front of every keyframe (unless the sample carries them itself)
          const hasSets = nals.some((n) => { const t = nalType(n, cfg.codec); return cfg.codec === 'h264' ? t === 7 : t === 33; });
          if (key && !hasSets) for (const s of cfg.parameterSets) parts.push(START, s);
          for (const n of nals) parts.push(START, n);
          const to90k = (t: number) => Math.round((t * 90000) / cfg.timescale);
          if (nals.length) out.push({ codec: cfg.codec, dts: to90k(dts), pts: to90k(dts + cto), key, data: Buffer.concat(parts) });
          dts += dur;
        }
      }
    }
  }
  return out;
}
