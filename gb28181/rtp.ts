/**
 * RTP (RFC 3550) for PS payloads, and RTP over TCP framed by a 2-byte length (RFC 4571), as GB/T 28181 §C uses them.
 * The packet itself is parsed and written by media/rtp/rtp-packet.ts (the one RTP parser, shared with RTSP).
 */
import { buildRtp } from '../media/rtp/rtp-packet.js';

/** Split one PS pack into RTP packets (same timestamp, marker on the last). */
export function packetizePs(ps: Buffer, o: { seq: number; timestamp: number; ssrc: number; payloadType?: number; mtu?: number }): Buffer[] {
  const mtu = o.mtu ?? 1400;
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < ps.length; off += mtu, i++) {
    const chunk = ps.subarray(off, off + mtu);
    out.push(buildRtp({ payloadType: o.payloadType ?? 96, marker: off + mtu >= ps.length, sequence: (o.seq + i) & 0xffff, timestamp: o.timestamp, ssrc: o.ssrc }, chunk));
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
