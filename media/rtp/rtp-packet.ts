/** RTP (RFC 3550) fixed header, CSRCs, header extension and padding. */

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Parse one RTP packet; undefined when it is not a well-formed RTP version 2 packet. The payload is a view. */
export function parseRtp(buf: Buffer): RtpPacket | undefined {
  if (buf.length < 12 || buf[0] >> 6 !== 2) return undefined;
  const cc = buf[0] & 0x0f;
  let off = 12 + cc * 4;
  if (buf[0] & 0x10) {
    if (buf.length < off + 4) return undefined;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (buf[0] & 0x20) end -= buf[buf.length - 1];
  if (off > end) return undefined;
  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  };
}

/** One RTP packet with a 12-byte header (no CSRCs, no extension, no padding), as StreetEye's senders write them. */
export function buildRtp(p: Omit<RtpPacket, 'payload'>, payload: Buffer): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  b.writeUInt16BE(p.sequence & 0xffff, 2);
  b.writeUInt32BE(p.timestamp >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

/** Signed distance from sequence number a to b (mod 2^16). */
export function seqDiff(b: number, a: number): number {
  return ((b - a + 0x18000) & 0xffff) - 0x8000;
}

/**
 * Receiver statistics for RTCP receiver reports (RFC 3550 §6.4.1, A.3, A.8): extended highest sequence, packets
 * expected and lost, interarrival jitter, and the last sender report.
 */
export class RtpReceiverStats {
  private baseSeq = -1;
  private cycles = 0;
  private maxSeq = 0;
  received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit?: number;
  /** middle 32 bits of the NTP time of the last SR, and when it arrived (ms) */
  lastSr?: { ntpMiddle: number; at: number };
  ssrc?: number;

  onPacket(p: RtpPacket, arrivalMs: number, clockRate: number): void {
    this.ssrc = p.ssrc;
    this.received++;
    if (this.baseSeq < 0) {
      this.baseSeq = p.sequence;
      this.maxSeq = p.sequence;
    } else {
      const d = seqDiff(p.sequence, this.maxSeq);
      if (d > 0) {
        if (p.sequence < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = p.sequence;
      }
    }
    const transit = (arrivalMs * clockRate) / 1000 - p.timestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > 0x80000000) d = Math.abs(d - 0x100000000);
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  onSenderReport(rtcp: Buffer, arrivalMs: number): void {
    if (rtcp.length >= 20) this.lastSr = { ntpMiddle: rtcp.readUInt32BE(10), at: arrivalMs };
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  get lost(): number {
    if (this.baseSeq < 0) return 0;
    return Math.max(0, this.extendedMax - this.baseSeq + 1 - this.received);
  }

  /** A receiver report (PT 201) with one report block for the media source. */
  receiverReport(ourSsrc: number, nowMs: number): Buffer | undefined {
    if (this.ssrc === undefined || this.baseSeq < 0) return undefined;
    const expected = this.extendedMax - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    const b = Buffer.alloc(32);
    b[0] = 0x81; // V=2, RC=1
    b[1] = 201;
    b.writeUInt16BE(7, 2);
    b.writeUInt32BE(ourSsrc >>> 0, 4);
    b.writeUInt32BE(this.ssrc >>> 0, 8);
    const cumLost = Math.min(0x7fffff, this.lost);
    b.writeUInt32BE(((fraction << 24) | cumLost) >>> 0, 12);
    b.writeUInt32BE(this.extendedMax >>> 0, 16);
    b.writeUInt32BE(Math.round(this.jitter) >>> 0, 20);
    if (this.lastSr) {
      b.writeUInt32BE(this.lastSr.ntpMiddle >>> 0, 24);
      b.writeUInt32BE(Math.round(((nowMs - this.lastSr.at) / 1000) * 65536) >>> 0, 28);
    }
    return b;
  }
}

/**
 * Puts UDP packets back in sequence order. A packet ahead of the next expected one waits (up to `maxHeld`
 * packets); when the gap has not filled by then, the missing ones are given up (the depacketizer sees the gap
 * and waits for the next keyframe). Late duplicates and packets from before the window are dropped.
 */
export class ReorderBuffer {
  private next = -1;
  private held = new Map<number, RtpPacket>();

  constructor(
    private readonly out: (p: RtpPacket) => void,
    private readonly maxHeld = 64,
  ) {}

  get holding(): number {
    return this.held.size;
  }

  push(p: RtpPacket): void {
    if (this.next < 0) this.next = p.sequence;
    const d = seqDiff(p.sequence, this.next);
    if (d < 0) {
      // late or duplicate; a huge jump back (the source restarted its numbering) resets the window
      if (d < -this.maxHeld * 4) this.reset(p);
      return;
    }
    if (d === 0) {
      this.emit(p);
      this.drain();
      return;
    }
    if (d > 0x4000) {
      this.reset(p);
      return;
    }
    this.held.set(p.sequence, p);
    if (this.held.size > this.maxHeld) this.flush();
  }

  /** Give up on the missing packets: release everything held, in order. */
  flush(): void {
    while (this.held.size) {
      let best: RtpPacket | undefined;
      let bestD = Infinity;
      for (const q of this.held.values()) {
        const d = seqDiff(q.sequence, this.next);
        if (d < bestD) {
          bestD = d;
          best = q;
        }
      }
      if (!best) return;
      this.next = best.sequence;
      this.held.delete(best.sequence);
      this.emit(best);
      this.drain();
    }
  }

  private reset(p: RtpPacket): void {
    this.held.clear();
    this.next = p.sequence;
    this.emit(p);
  }

  private emit(p: RtpPacket): void {
    this.next = (p.sequence + 1) & 0xffff;
    this.out(p);
  }

  private drain(): void {
    for (;;) {
      const q = this.held.get(this.next);
      if (!q) return;
      this.held.delete(this.next);
      this.emit(q);
    }
  }
}
