/**
 * Annex-B H.265 parsing for the simulator (RFC 7798's view of a stream): cut an elementary stream from libx265 into
 * access units, keep the parameter sets (VPS, SPS, PPS) for the SDP and in front of every IRAP picture.
 * Police cameras send H.265 on the main stream; the simulator has to as well.
 */
import type { AccessUnit } from './h264.js';

export const HEVC_VPS = 32;
export const HEVC_SPS = 33;
export const HEVC_PPS = 34;
export const HEVC_AUD = 35;
export const HEVC_PREFIX_SEI = 39;
export const HEVC_SUFFIX_SEI = 40;

export function hevcNalType(nal: Buffer): number {
  return (nal[0] >> 1) & 0x3f;
}

/** BLA, IDR and CRA pictures (types 16–21): a decoder can start there. */
export function isIrap(type: number): boolean {
  return type >= 16 && type <= 21;
}

/** first_slice_segment_in_pic_flag, the first bit after the 2-byte NAL header. */
function firstSliceOfPicture(nal: Buffer): boolean {
  return nal.length > 2 && (nal[2] & 0x80) !== 0;
}

export function hevcAccessUnits(nals: Buffer[]): { units: AccessUnit[]; vps?: Buffer; sps?: Buffer; pps?: Buffer } {
  const units: AccessUnit[] = [];
  let vps: Buffer | undefined;
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let pending: Buffer[] = [];
  let current: AccessUnit | undefined;
  for (const nal of nals) {
    const t = hevcNalType(nal);
    if (t === HEVC_AUD || t === HEVC_PREFIX_SEI || t === HEVC_SUFFIX_SEI) continue; // x265's SEI is its settings banner
    if (t === HEVC_VPS || t === HEVC_SPS || t === HEVC_PPS) {
      if (t === HEVC_VPS) vps ??= nal;
      else if (t === HEVC_SPS) sps ??= nal;
      else pps ??= nal;
      current = undefined;
      pending.push(nal);
      continue;
    }
    if (t < 32) {
      // a VCL NAL (slice segment)
      if (!current || firstSliceOfPicture(nal)) {
        current = { nals: pending, key: false };
        pending = [];
        units.push(current);
      }
      current.nals.push(nal);
      if (isIrap(t)) current.key = true;
    }
  }
  if (vps && sps && pps) {
    for (const u of units) {
      if (!u.key) continue;
      const types = new Set(u.nals.map(hevcNalType));
      if (!types.has(HEVC_VPS) || !types.has(HEVC_SPS) || !types.has(HEVC_PPS)) {
        u.nals = [vps, sps, pps, ...u.nals.filter((n) => hevcNalType(n) < 32)];
      }
    }
  }
  return { units, vps, sps, pps };
}
