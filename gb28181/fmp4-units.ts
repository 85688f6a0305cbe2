/**
 * The session's fMP4 back to access units, for what StreetEye sends as a lower platform (PS over RTP to an upper
 * platform): the init segment's avcC/hvcC gives the parameter sets and the NAL length size; each moof+mdat gives its
 * samples (tfhd/tfdt/trun, default-base-is-moof as ffmpeg and the native muxer write). A sample becomes an Annex-B
 * access unit with 90 kHz PTS/DTS; keyframes carry the parameter sets in front (a PS receiver joins at any keyframe).
 */
import { body, children, find, findPath } from '../media/mp4/boxes.js';
import type { AccessUnit, VideoCodec } from './ps.js';

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
  const moov = [...children(init, 0, init.length)].find((x) => x.type === 'moov');
  if (!moov) return undefined;
  for (const trak of children(init, ...body(moov))) {
    if (trak.type !== 'trak') continue;
    const tkhd = findPath(init, trak, ['tkhd']);
    const mdhd = findPath(init, trak, ['mdia', 'mdhd']);
    const stsd = findPath(init, trak, ['mdia', 'minf', 'stbl', 'stsd']);
    if (!mdhd || !stsd || !tkhd) continue;
    const [mdhdAt] = body(mdhd);
    const [tkhdAt] = body(tkhd);
    const timescale = init.readUInt32BE(mdhdAt + (init[mdhdAt] === 1 ? 20 : 12));
    const trackId = init.readUInt32BE(tkhdAt + (init[tkhdAt] === 1 ? 20 : 12));
    // stsd: version/flags, entry count, then sample entries; a VisualSampleEntry's boxes start 78 bytes in
    const [stsdAt, stsdEnd] = body(stsd);
    for (const entry of children(init, stsdAt + 8, stsdEnd)) {
      const codec: VideoCodec | undefined = entry.type === 'avc1' || entry.type === 'avc3' ? 'h264' : entry.type === 'hvc1' || entry.type === 'hev1' ? 'h265' : undefined;
      if (!codec) continue;
      const [entryAt, entryEnd] = body(entry);
      const cfg = find(init, entryAt + 78, entryEnd, codec === 'h264' ? 'avcC' : 'hvcC');
      if (!cfg) continue;
      const c = init.subarray(...body(cfg));
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
  const top = [...children(frag, 0, frag.length)];
  for (const moof of top) {
    if (moof.type !== 'moof') continue;
    for (const traf of children(frag, ...body(moof))) {
      if (traf.type !== 'traf') continue;
      const tfhd = findPath(frag, traf, ['tfhd']);
      if (!tfhd) continue;
      let [p] = body(tfhd);
      if (frag.readUInt32BE(p + 4) !== cfg.trackId) continue;
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
      const tfdt = findPath(frag, traf, ['tfdt']);
      let dts = 0;
      if (tfdt) {
        const [at] = body(tfdt);
        dts = frag[at] === 1 ? Number(frag.readBigUInt64BE(at + 4)) : frag.readUInt32BE(at + 4);
      }
      for (const trun of children(frag, ...body(traf))) {
        if (trun.type !== 'trun') continue;
        const [trunAt, trunEnd] = body(trun);
        let q = trunAt;
        const version = frag[q];
        const fl = frag.readUInt32BE(q) & 0xffffff;
        const count = frag.readUInt32BE(q + 4);
        q += 8;
        let offset = 0;
        if (fl & 0x01) { offset = frag.readInt32BE(q); q += 4; }
        let firstFlags: number | undefined;
        if (fl & 0x04) { firstFlags = frag.readUInt32BE(q); q += 4; }
        let at = base + offset;
        for (let i = 0; i < count && q <= trunEnd; i++) {
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
