/**
 * MPEG-2 program stream (ISO/IEC 13818-1 §2.5), the GB/T 28181 media payload: pack headers, system header, program
 * stream map (PSM: which stream carries H.264 0x1B or H.265 0x24) and PES packets with PTS/DTS.
 *
 *   PsDemuxer  bytes (RTP payloads in order) → video access units (Annex-B, PTS/DTS in 90 kHz, keyframe flag)
 *   muxPsFrame one access unit → one pack (the simulator; the bridge into ffmpeg until the native muxer lands)
 *
 * The demuxer resynchronises on the next start code after garbage, drops an access unit that lost bytes (RTP gap)
 * and waits for the next keyframe, and never buffers more than maxBufferBytes.
 */

export type VideoCodec = 'h264' | 'h265';

export interface AccessUnit {
  codec: VideoCodec;
  /** 90 kHz */
  pts: number;
  dts: number;
  key: boolean;
  /** Annex-B NAL units */
  data: Buffer;
}

export const STREAM_TYPE = { h264: 0x1b, h265: 0x24 } as const;

export interface PsDemuxStats {
  units: number;
  bytes: number;
  /** bytes skipped to find a start code */
  resyncBytes: number;
  /** access units dropped (lost data, waiting for a keyframe, too large) */
  droppedUnits: number;
  /** streams in the PSM we do not carry (audio, SVAC, MPEG-4) */
  ignoredPackets: number;
}

function nalTypes(data: Buffer, codec: VideoCodec): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < data.length && types.length < 64; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      const b = data[i + 3];
      types.push(codec === 'h264' ? b & 0x1f : (b >> 1) & 0x3f);
      i += 3;
    }
  }
  return types;
}

export function isKeyframe(data: Buffer, codec: VideoCodec): boolean {
  const t = nalTypes(data, codec);
  return codec === 'h264' ? t.includes(5) : t.some((x) => x >= 16 && x <= 21);
}

/** Which codec an elementary stream without a PSM looks like (SPS first in a keyframe). */
export function sniffCodec(data: Buffer): VideoCodec | undefined {
  for (let i = 0; i + 4 < data.length && i < 256; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      const b = data[i + 3];
      if ((b & 0x1f) === 7 || (b & 0x1f) === 5) return 'h264';
      const h = (b >> 1) & 0x3f;
      if (h === 32 || h === 33 || h === 19) return 'h265';
      return undefined;
    }
  }
  return undefined;
}

function readTs(b: Buffer, at: number): number {
  return ((b[at] >> 1) & 0x07) * 2 ** 30 + ((b.readUInt16BE(at + 1) >> 1) << 15) + (b.readUInt16BE(at + 3) >> 1);
}

export class PsDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  private codec?: VideoCodec;
  private videoStreamId?: number;
  private cur?: { pts: number; dts: number; parts: Buffer[]; bytes: number; broken: boolean };
  private needKey = true;
  readonly stats: PsDemuxStats = { units: 0, bytes: 0, resyncBytes: 0, droppedUnits: 0, ignoredPackets: 0 };

  constructor(
    private readonly onUnit: (au: AccessUnit) => void,
    private readonly o: { maxBufferBytes?: number; maxUnitBytes?: number } = {},
  ) {}

  get streamCodec(): VideoCodec | undefined {
    return this.codec;
  }

  /** Bytes lost upstream (an RTP sequence gap): the frame in progress is incomplete; resync at the next pack. */
  lost(): void {
    if (this.cur) this.cur.broken = true;
    // the lost bytes may have been a whole frame that later ones refer to: wait for the next keyframe
    this.needKey = true;
    this.buf = Buffer.alloc(0);
    this.resyncing = true;
  }
  private resyncing = false;

  /** The frame is complete (RTP marker bit or a new RTP timestamp): emit it now rather than at the next PES. */
  endOfFrame(): void {
    this.emit();
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const max = this.o.maxBufferBytes ?? 4 * 1024 * 1024;
    if (this.buf.length > max) {
      this.stats.resyncBytes += this.buf.length;
      this.lost();
      return;
    }
    let p = 0;
    const b = this.buf;
    for (;;) {
      // find 00 00 01 xx
      if (p + 4 > b.length) break;
      if (!(b[p] === 0 && b[p + 1] === 0 && b[p + 2] === 1) || (this.resyncing && b[p + 3] !== 0xba)) {
        const next = this.findStart(b, p + 1);
        const to = next < 0 ? Math.max(p, b.length - 3) : next;
        this.stats.resyncBytes += to - p;
        p = to;
        if (next < 0) break;
        continue;
      }
      const id = b[p + 3];
      let size: number;
      if (id === 0xba) {
        if (p + 14 > b.length) break;
        size = (b[p + 4] & 0xc0) === 0x40 ? 14 + (b[p + 13] & 0x07) : 12; // MPEG-2 or MPEG-1 pack header
        if (p + size > b.length) break;
        this.resyncing = false;
      } else if (id === 0xb9) {
        size = 4;
      } else if (id >= 0xbb) {
        if (p + 6 > b.length) break;
        size = 6 + b.readUInt16BE(p + 4);
        if (p + size > b.length) break;
        if (id === 0xbc) this.parsePsm(b.subarray(p, p + size));
        else if (id >= 0xe0 && id <= 0xef) this.onVideoPes(b.subarray(p, p + size), id);
        else this.stats.ignoredPackets++;
      } else {
        // a start code that is no PS unit (e.g. inside unaligned data): skip it
        size = 3;
        this.stats.resyncBytes += 3;
      }
      p += size;
    }
    this.buf = p >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(p));
  }

  private findStart(b: Buffer, from: number): number {
    for (let i = from; i + 3 < b.length; i++) if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) return i;
    return -1;
  }

  private parsePsm(u: Buffer): void {
    if (u.length < 16) return;
    const infoLen = u.readUInt16BE(8);
    let q = 10 + infoLen;
    if (q + 2 > u.length) return;
    const mapLen = u.readUInt16BE(q);
    q += 2;
    const end = Math.min(u.length - 4, q + mapLen);
    while (q + 4 <= end) {
      const type = u[q];
      const sid = u[q + 1];
      const esLen = u.readUInt16BE(q + 2);
      if (sid >= 0xe0 && sid <= 0xef && this.videoStreamId === undefined || sid === this.videoStreamId) {
        if (type === STREAM_TYPE.h264) this.codec = 'h264';
        else if (type === STREAM_TYPE.h265) this.codec = 'h265';
        if (type === STREAM_TYPE.h264 || type === STREAM_TYPE.h265) this.videoStreamId = sid;
      }
      q += 4 + esLen;
    }
  }

  private onVideoPes(u: Buffer, id: number): void {
    if (this.videoStreamId !== undefined && id !== this.videoStreamId) {
      this.stats.ignoredPackets++;
      return;
    }
    if (u.length < 9) return;
    let payloadAt: number;
    let pts: number | undefined;
    let dts: number | undefined;
    if ((u[6] & 0xc0) === 0x80) {
      const flags = u[7];
      payloadAt = 9 + u[8];
      if (flags & 0x80 && u.length >= 14) pts = readTs(u, 9);
      if ((flags & 0xc0) === 0xc0 && u.length >= 19) dts = readTs(u, 14);
    } else {
      // MPEG-1 style PES header: stuffing, optional STD buffer, timestamps
      let q = 6;
      while (q < u.length && u[q] === 0xff) q++;
      if ((u[q] & 0xc0) === 0x40) q += 2;
      if ((u[q] & 0xf0) === 0x20) { pts = readTs(u, q); q += 5; }
      else if ((u[q] & 0xf0) === 0x30) { pts = readTs(u, q); dts = readTs(u, q + 5); q += 10; }
      else q += 1;
      payloadAt = q;
    }
    if (payloadAt > u.length) return;
    const payload = u.subarray(payloadAt);
    if (pts !== undefined && this.cur && this.cur.pts !== pts) this.emit();
    if (!this.cur) {
      if (pts === undefined) {
        // continuation of a frame whose start we dropped
        return;
      }
      this.cur = { pts, dts: dts ?? pts, parts: [], bytes: 0, broken: false };
    }
    this.cur.parts.push(Buffer.from(payload));
    this.cur.bytes += payload.length;
    if (this.cur.bytes > (this.o.maxUnitBytes ?? 4 * 1024 * 1024)) this.cur.broken = true;
  }

  private emit(): void {
    const c = this.cur;
    this.cur = undefined;
    if (!c || !c.bytes) return;
    if (c.broken) {
      this.stats.droppedUnits++;
      this.needKey = true;
      return;
    }
    const data = Buffer.concat(c.parts, c.bytes);
    this.codec ??= sniffCodec(data);
    if (!this.codec) {
      this.stats.droppedUnits++;
      return;
    }
    const key = isKeyframe(data, this.codec);
    if (this.needKey && !key) {
      this.stats.droppedUnits++;
      return;
    }
    this.needKey = false;
    this.stats.units++;
    this.stats.bytes += data.length;
    this.onUnit({ codec: this.codec, pts: c.pts, dts: c.dts, key, data });
  }
}

function writeTs(out: Buffer, at: number, prefix: number, ts: number): void {
  const t = ts % 2 ** 33;
  const hi = Math.floor(t / 2 ** 30) & 0x07;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  const lo = t & 0x7fff;
  out[at] = (prefix << 4) | (hi << 1) | 1;
  out.writeUInt16BE((mid << 1) | 1, at + 1);
  out.writeUInt16BE((lo << 1) | 1, at + 3);
}

function packHeader(scr: number, muxRate = 6106): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt32BE(0x000001ba, 0);
  const t = scr % 2 ** 33;
  const hi = Math.floor(t / 2 ** 30) & 0x07;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  const lo = t & 0x7fff;
  // '01' SCR[32..30] 1 SCR[29..15] 1 SCR[14..0] 1 ext(9)=0 1
  b[4] = 0x40 | (hi << 3) | 0x04 | (mid >> 13);
  b[5] = (mid >> 5) & 0xff;
  b[6] = ((mid & 0x1f) << 3) | 0x04 | (lo >> 13);
  b[7] = (lo >> 5) & 0xff;
  b[8] = ((lo & 0x1f) << 3) | 0x04;
  b[9] = 0x01;
  b[10] = (muxRate >> 14) & 0xff;
  b[11] = (muxRate >> 6) & 0xff;
  b[12] = ((muxRate & 0x3f) << 2) | 0x03;
  b[13] = 0xf8; // reserved, no stuffing
  return b;
}

function systemHeader(): Buffer {
  return Buffer.from([0x00, 0x00, 0x01, 0xbb, 0x00, 0x09, 0x80, 0x04, 0xe1, 0x04, 0xe1, 0xff, 0xe0, 0xe0, 0xe8]);
}

let crcTable: Uint32Array | undefined;
function crc32Mpeg(b: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const x of b) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ x) & 0xff]) >>> 0;
  return crc >>> 0;
}

function psm(codec: VideoCodec): Buffer {
  const body = Buffer.from([0x00, 0x00, 0x01, 0xbc, 0x00, 0x00, 0xe0, 0xff, 0x00, 0x00, 0x00, 0x04, STREAM_TYPE[codec], 0xe0, 0x00, 0x00]);
  body.writeUInt16BE(body.length - 6 + 4, 4);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32Mpeg(body));
  return Buffer.concat([body, crc]);
}

/** Largest PES payload per packet (the 16-bit PES length minus the header with PTS and DTS). */
const MAX_PES_PAYLOAD = 65535 - 13;

/** One access unit as one PS pack: pack header, system header + PSM before keyframes, PES packets (PTS+DTS on the first). */
export function muxPsFrame(au: { codec: VideoCodec; pts: number; dts?: number; key: boolean; data: Buffer }): Buffer {
  const dts = au.dts ?? au.pts;
  const parts: Buffer[] = [packHeader(dts)];
  if (au.key) parts.push(systemHeader(), psm(au.codec));
  for (let off = 0, first = true; off < au.data.length || first; first = false) {
    const chunk = au.data.subarray(off, off + MAX_PES_PAYLOAD);
    off += chunk.length;
    const withTs = first;
    const hdrLen = withTs ? 10 : 0;
    const h = Buffer.alloc(9 + hdrLen);
    h.writeUInt32BE(0x000001e0, 0);
    h.writeUInt16BE(3 + hdrLen + chunk.length, 4);
    h[6] = first ? 0x84 : 0x80; // data_alignment_indicator on the frame's first PES
    h[7] = withTs ? 0xc0 : 0x00;
    h[8] = hdrLen;
    if (withTs) {
      writeTs(h, 9, 0x3, au.pts);
      writeTs(h, 14, 0x1, dts);
    }
    parts.push(h, chunk);
    if (!chunk.length) break;
  }
  return Buffer.concat(parts);
}
