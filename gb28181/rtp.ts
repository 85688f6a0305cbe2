/** RTP (RFC 3550) for PS payloads, and RTP over TCP framed by a 2-byte length (RFC 4571), as GB/T 28181 §C uses them. */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function parseRtp(b: Buffer): RtpPacket | undefined {
  if (b.length < 12 || b[0] >> 6 !== 2) return undefined;
  const cc = b[0] & 0x0f;
  let at = 12 + cc * 4;
  if (b[0] & 0x10) {
    if (at + 4 > b.length) return undefined;
    at += 4 + b.readUInt16BE(at + 2) * 4;
  }
  let end = b.length;
  if (b[0] & 0x20) end -= b[b.length - 1];
  if (at > end) return undefined;
  return { payloadType: b[1] & 0x7f, marker: (b[1] & 0x80) !== 0, seq: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), payload: b.subarray(at, end) };
}

export function buildRtp(p: Omit<RtpPacket, 'payload'>, payload: Buffer): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  b.writeUInt16BE(p.seq & 0xffff, 2);
  b.writeUInt32BE(p.timestamp >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

/** Split one PS pack into RTP packets (same timestamp, marker on the last). */
export function packetizePs(ps: Buffer, o: { seq: number; timestamp: number; ssrc: number; payloadType?: number; mtu?: number }): Buffer[] {
  const mtu = o.mtu ?? 1400;
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < ps.length; off += mtu, i++) {
    const chunk = ps.subarray(off, off + mtu);
    out.push(buildRtp({ payloadType: o.payloadType ?? 96, marker: off + mtu >= ps.length, seq: (o.seq + i) & 0xffff, timestamp: o.timestamp, ssrc: o.ssrc }, chunk));
  }
  return out;
}

export function frameRfc4571(packet: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(packet.length);
  return Buffer.concat([h, packet]);
}

/** RFC 4571 de-framing; bounded: a frame length is at most 65535. */
export class Rfc4571Deframer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onPacket: (p: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let p = 0;
    while (p + 2 <= this.buf.length) {
      const n = this.buf.readUInt16BE(p);
      if (p + 2 + n > this.buf.length) break;
      if (n) onPacket(this.buf.subarray(p + 2, p + 2 + n));
      p += 2 + n;
    }
    this.buf = p >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(p));
  }
}

/** Sequence tracking: reports a gap (lost packets) and drops duplicates/late packets. */
export class SeqTracker {
  private last?: number;
  lostPackets = 0;
  /** 'ok', 'gap' (accept, but data was lost before it) or 'old' (duplicate or reordered late: drop) */
  accept(seq: number): 'ok' | 'gap' | 'old' {
    if (this.last === undefined) {
      this.last = seq;
      return 'ok';
    }
    const d = (seq - this.last) & 0xffff;
    if (d === 0 || d > 0x8000) return 'old';
    this.last = seq;
    if (d === 1) return 'ok';
    this.lostPackets += d - 1;
    return 'gap';
  }
}
