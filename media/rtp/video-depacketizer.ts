/**
 * RTP → access units for H.264 (RFC 6184: single NAL, STAP-A, FU-A) and H.265 (RFC 7798: single NAL, AP, FU).
 *
 * A frame is the run of packets with one RTP timestamp, closed by the marker bit (or by the first packet of the
 * next timestamp when a camera forgets the marker). A gap in the sequence numbers, a fragment without its start,
 * or an oversized frame makes the frame broken: it is dropped, and so is every frame after it until the next
 * complete keyframe — a decoder never gets a frame that references a picture it did not see. Parameter sets
 * (VPS/SPS/PPS) are taken out of the frames and reported beside them; the 32-bit RTP timestamp is extended to a
 * monotonic 64-bit clock (wraps every 13 h at 90 kHz).
 */
import type { RtpPacket } from './rtp-packet.js';
import { seqDiff } from './rtp-packet.js';
import { H264_NAL, h264NalType } from '../codec/h264.js';
import { H265_NAL, h265IsKey, h265IsVcl, h265NalType } from '../codec/h265.js';

export type VideoCodec = 'h264' | 'h265';

export class UnsupportedStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedStreamError';
  }
}

export interface AccessUnit {
  /** the frame's NAL units, parameter sets and access-unit delimiters removed */
  nals: Buffer[];
  /** extended (64-bit, monotonic) RTP timestamp */
  timestamp: number;
  key: boolean;
  /** parameter sets that came in-band with this frame (VPS, SPS, PPS as found) */
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

export interface DepacketizerStats {
  frames: number;
  /** frames dropped: broken (loss) or waiting for a keyframe after a loss */
  dropped: number;
  /** sequence gaps seen */
  gaps: number;
}

const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_FRAME_NALS = 4096;

export class VideoDepacketizer {
  readonly stats: DepacketizerStats = { frames: 0, dropped: 0, gaps: 0 };
  private lastSeq = -1;
  private cur?: { ts: number; nals: Buffer[]; bytes: number; broken: boolean };
  private fu?: { chunks: Buffer[]; bytes: number };
  private waitKey = true;
  private lastTs32 = -1;
  private ext = 0;

  constructor(
    readonly codec: VideoCodec,
    private readonly onFrame: (au: AccessUnit) => void,
    /** RFC 7798 sprop-max-don-diff > 0 puts a DON field in every packet: not supported (the fallback handles it) */
    opts: { donl?: boolean } = {},
  ) {
    if (opts.donl) throw new UnsupportedStreamError('H.265 with decoding order numbers (sprop-max-don-diff > 0)');
  }

  push(p: RtpPacket): void {
    let gap = false;
    if (this.lastSeq >= 0) {
      const d = seqDiff(p.sequence, this.lastSeq);
      if (d <= 0) return; // duplicate or late (UDP): already past it
      if (d > 1) {
        this.stats.gaps++;
        gap = true;
        this.lose();
      }
    }
    this.lastSeq = p.sequence;
    if (this.cur && this.cur.ts !== p.timestamp) this.finish();
    if (!this.cur) {
      // after a gap, a new frame is whole only if this packet is its very beginning (the lost packets may have been it)
      this.cur = { ts: p.timestamp, nals: [], bytes: 0, broken: gap && !this.startsPicture(p.payload) };
    }
    try {
      if (this.codec === 'h264') this.h264(p.payload);
      else this.h265(p.payload);
    } catch (err) {
      if (err instanceof UnsupportedStreamError) throw err;
      this.cur.broken = true;
    }
    if (this.cur.bytes > MAX_FRAME_BYTES || this.cur.nals.length > MAX_FRAME_NALS) this.cur.broken = true;
    if (p.marker) this.finish();
  }

  /** The stream ended or paused (a camera stopping mid-frame): a frame still open is incomplete, drop it. */
  reset(): void {
    if (this.cur) this.stats.dropped++;
    this.cur = undefined;
    this.fu = undefined;
    this.waitKey = true;
    this.lastSeq = -1;
  }

  private lose(): void {
    this.fu = undefined;
    if (this.cur) this.cur.broken = true;
    this.waitKey = true;
  }

  private add(nal: Buffer): void {
    if (nal.length === 0) return;
    const c = this.cur!;
    c.nals.push(nal);
    c.bytes += nal.length;
  }

  private h264(pl: Buffer): void {
    if (pl.length < 1) return;
    const type = pl[0] & 0x1f;
    if (type !== H264_NAL.FU_A && this.fu) this.lose(); // an FU-A that never ended
    if (type >= 1 && type <= 23) this.add(pl);
    else if (type === H264_NAL.STAP_A) {
      for (let o = 1; o + 2 <= pl.length; ) {
        const n = pl.readUInt16BE(o);
        o += 2;
        if (o + n > pl.length) throw new Error('STAP-A overrun');
        this.add(pl.subarray(o, o + n));
        o += n;
      }
    } else if (type === H264_NAL.FU_A) {
      if (pl.length < 3) throw new Error('short FU-A');
      const start = (pl[1] & 0x80) !== 0;
      const end = (pl[1] & 0x40) !== 0;
      if (start) {
        if (this.fu) this.lose();
        this.fu = { chunks: [Buffer.from([(pl[0] & 0xe0) | (pl[1] & 0x1f)])], bytes: 1 };
      } else if (!this.fu) throw new Error('FU-A without its start');
      this.fu!.chunks.push(pl.subarray(2));
      this.fu!.bytes += pl.length - 2;
      if (this.fu!.bytes > MAX_FRAME_BYTES) throw new Error('FU-A too large');
      if (end) {
        this.add(Buffer.concat(this.fu!.chunks, this.fu!.bytes));
        this.fu = undefined;
      }
    } else if (type === H264_NAL.STAP_B || type === H264_NAL.MTAP16 || type === H264_NAL.MTAP24 || type === H264_NAL.FU_B) {
      throw new UnsupportedStreamError(`H.264 interleaved packetization (NAL type ${type})`);
    }
  }

  private h265(pl: Buffer): void {
    if (pl.length < 3) return;
    const type = (pl[0] >> 1) & 0x3f;
    if (type !== H265_NAL.FU && this.fu) this.lose();
    if (type === H265_NAL.AP) {
      for (let o = 2; o + 2 <= pl.length; ) {
        const n = pl.readUInt16BE(o);
        o += 2;
        if (o + n > pl.length) throw new Error('AP overrun');
        this.add(pl.subarray(o, o + n));
        o += n;
      }
    } else if (type === H265_NAL.FU) {
      const fuh = pl[2];
      const start = (fuh & 0x80) !== 0;
      const end = (fuh & 0x40) !== 0;
      if (start) {
        if (this.fu) this.lose();
        this.fu = { chunks: [Buffer.from([(pl[0] & 0x81) | ((fuh & 0x3f) << 1), pl[1]])], bytes: 2 };
      } else if (!this.fu) throw new Error('FU without its start');
      this.fu!.chunks.push(pl.subarray(3));
      this.fu!.bytes += pl.length - 3;
      if (this.fu!.bytes > MAX_FRAME_BYTES) throw new Error('FU too large');
      if (end) {
        this.add(Buffer.concat(this.fu!.chunks, this.fu!.bytes));
        this.fu = undefined;
      }
    } else if (type === H265_NAL.PACI) {
      throw new UnsupportedStreamError('H.265 PACI packets');
    } else this.add(pl);
  }

  /** Does this payload begin a picture: a parameter set, or the first slice (first_mb_in_slice / first_slice_segment_in_pic_flag)? */
  private startsPicture(pl: Buffer): boolean {
    if (this.codec === 'h264') {
      if (pl.length < 2) return false;
      let t = pl[0] & 0x1f;
      let first = pl[1];
      if (t === H264_NAL.STAP_A) {
        if (pl.length < 5) return false;
        t = pl[3] & 0x1f;
        first = pl[4];
      } else if (t === H264_NAL.FU_A) {
        if (pl.length < 3 || !(pl[1] & 0x80)) return false;
        t = pl[1] & 0x1f;
        first = pl[2];
      }
      if (t === H264_NAL.SPS || t === H264_NAL.PPS || t === H264_NAL.AUD || t === H264_NAL.SEI) return true;
      return t >= 1 && t <= 5 && (first & 0x80) !== 0;
    }
    if (pl.length < 3) return false;
    let t = (pl[0] >> 1) & 0x3f;
    let first = pl[2];
    if (t === H265_NAL.AP) {
      if (pl.length < 7) return false;
      t = (pl[4] >> 1) & 0x3f;
      first = pl[6];
    } else if (t === H265_NAL.FU) {
      if (pl.length < 4 || !(pl[2] & 0x80)) return false;
      t = pl[2] & 0x3f;
      first = pl[3];
    }
    if (t === H265_NAL.VPS || t === H265_NAL.SPS || t === H265_NAL.PPS || t === H265_NAL.AUD || t === H265_NAL.SEI_PREFIX) return true;
    return h265IsVcl(t) && (first & 0x80) !== 0;
  }

  private finish(): void {
    const c = this.cur;
    this.cur = undefined;
    if (!c) return;
    if (this.fu) {
      // the marker came (or the timestamp moved on) in the middle of a fragmented NAL unit
      this.fu = undefined;
      c.broken = true;
      this.waitKey = true;
    }
    const au: AccessUnit = { nals: [], timestamp: 0, key: false };
    let vcl = false;
    for (const nal of c.nals) {
      if (this.codec === 'h264') {
        const t = h264NalType(nal);
        if (t === H264_NAL.SPS) au.sps = nal;
        else if (t === H264_NAL.PPS) au.pps = nal;
        else if (t === H264_NAL.AUD) continue;
        else {
          if (t === H264_NAL.IDR) au.key = true;
          if (t >= 1 && t <= 5) vcl = true;
          au.nals.push(nal);
        }
      } else {
        if (nal.length < 2) continue;
        const t = h265NalType(nal);
        if (t === H265_NAL.VPS) au.vps = nal;
        else if (t === H265_NAL.SPS) au.sps = nal;
        else if (t === H265_NAL.PPS) au.pps = nal;
        else if (t === H265_NAL.AUD) continue;
        else {
          if (h265IsKey(t)) au.key = true;
          if (h265IsVcl(t)) vcl = true;
          au.nals.push(nal);
        }
      }
    }
    const ts = this.extend(c.ts);
    au.timestamp = ts;
    if (c.broken || !vcl) {
      // parameter sets alone (some cameras send them in their own RTP timestamp) still count
      if (!c.broken && (au.sps || au.pps || au.vps)) this.onFrame({ ...au, nals: [] });
      else if (c.broken) this.stats.dropped++;
      return;
    }
    if (this.waitKey && !au.key) {
      this.stats.dropped++;
      return;
    }
    if (au.key) this.waitKey = false;
    this.stats.frames++;
    this.onFrame(au);
  }

  private extend(ts32: number): number {
    if (this.lastTs32 < 0) this.ext = ts32;
    else {
      this.ext += (ts32 - this.lastTs32) | 0; // signed 32-bit difference: a wrap is a small step forward
    }
    this.lastTs32 = ts32;
    return this.ext;
  }
}
