/**
 * RFC 6184 (H.264) and RFC 7798 (H.265) packetization, done once per frame at load time. Each frame becomes one template buffer of
 * TCP-interleaved RTP packets ('$' ch len16 | 12-byte RTP header | payload). Sending then costs one copy
 * and a few header patches per session: hundreds of cameras stay cheap.
 */
import type { AccessUnit } from './h264.js';

export const RTP_PAYLOAD_TYPE = 96;
/** Payload size under a 1500-byte Ethernet MTU with IP/UDP/RTP headers to spare. */
export const MAX_PAYLOAD = 1400;

export interface RtpFrame {
  /** Interleaved packets back to back; headers are placeholders patched per session. */
  template: Buffer;
  /** Offset of each packet's 4-byte interleave prefix in `template`. */
  offsets: number[];
  key: boolean;
  /** Total RTP payload octets (for RTCP sender reports). */
  payloadBytes: number;
}

export type VideoCodec = 'h264' | 'h265';

function payloadsOf(nal: Buffer, maxPayload: number, codec: VideoCodec): Buffer[] {
  if (nal.length <= maxPayload) return [nal];
  if (codec === 'h265') return hevcFragments(nal, maxPayload);
  // FU-A: the NAL header is replaced by an indicator (F|NRI|28) and a header (S|E|type) per fragment.
  const out: Buffer[] = [];
  const indicator = (nal[0] & 0xe0) | 28;
  const type = nal[0] & 0x1f;
  const body = nal.subarray(1);
  const chunk = maxPayload - 2;
  for (let off = 0; off < body.length; off += chunk) {
    const part = body.subarray(off, Math.min(off + chunk, body.length));
    const start = off === 0;
    const end = off + chunk >= body.length;
    const fu = Buffer.allocUnsafe(2 + part.length);
    fu[0] = indicator;
    fu[1] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | type;
    part.copy(fu, 2);
    out.push(fu);
  }
  return out;
}

/** RFC 7798 §4.4.3 fragmentation units: a 2-byte payload header of type 49 (F, LayerId, TID kept), then S|E|type. */
function hevcFragments(nal: Buffer, maxPayload: number): Buffer[] {
  const out: Buffer[] = [];
  const type = (nal[0] >> 1) & 0x3f;
  const h0 = (nal[0] & 0x81) | (49 << 1);
  const h1 = nal[1];
  const body = nal.subarray(2);
  const chunk = maxPayload - 3;
  for (let off = 0; off < body.length; off += chunk) {
    const part = body.subarray(off, Math.min(off + chunk, body.length));
    const fu = Buffer.allocUnsafe(3 + part.length);
    fu[0] = h0;
    fu[1] = h1;
    fu[2] = (off === 0 ? 0x80 : 0) | (off + chunk >= body.length ? 0x40 : 0) | type;
    part.copy(fu, 3);
    out.push(fu);
  }
  return out;
}

export function packetizeAccessUnit(au: AccessUnit, maxPayload = MAX_PAYLOAD, codec: VideoCodec = 'h264'): RtpFrame {
  const payloads: Buffer[] = [];
  for (const nal of au.nals) payloads.push(...payloadsOf(nal, maxPayload, codec));
  let size = 0;
  for (const p of payloads) size += 16 + p.length;
  const template = Buffer.alloc(size);
  const offsets: number[] = [];
  let o = 0;
  let payloadBytes = 0;
  payloads.forEach((p, i) => {
    offsets.push(o);
    template[o] = 0x24; // '$'
    template.writeUInt16BE(12 + p.length, o + 2);
    template[o + 4] = 0x80; // V=2
    template[o + 5] = (i === payloads.length - 1 ? 0x80 : 0) | RTP_PAYLOAD_TYPE; // marker on the AU's last packet
    p.copy(template, o + 16);
    payloadBytes += p.length;
    o += 16 + p.length;
  });
  return { template, offsets, key: au.key, payloadBytes };
}

/**
 * A session's copy of a frame with its channel, sequence numbers, timestamp and SSRC filled in.
 * Returns the next sequence number.
 */
export function stampFrame(frame: RtpFrame, out: Buffer, channel: number, seq: number, timestamp: number, ssrc: number): number {
  frame.template.copy(out);
  for (const o of frame.offsets) {
    out[o + 1] = channel;
    out.writeUInt16BE(seq & 0xffff, o + 6);
    out.writeUInt32BE(timestamp >>> 0, o + 8);
    out.writeUInt32BE(ssrc >>> 0, o + 12);
    seq = (seq + 1) & 0xffff;
  }
  return seq;
}
