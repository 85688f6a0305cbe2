/** H.265 (ISO 23008-2) parameter sets: SPS fields for an fMP4 init segment, hvcC, the codec string (ISO 14496-15 Annex E). */
import { BitReader, unescapeRbsp } from './bits.js';

export const H265_NAL = { VPS: 32, SPS: 33, PPS: 34, AUD: 35, SEI_PREFIX: 39, AP: 48, FU: 49, PACI: 50 } as const;

export const h265NalType = (nal: Buffer): number => (nal[0] >> 1) & 0x3f;
/** IRAP pictures (BLA, IDR, CRA): decoding can start here */
export const h265IsKey = (type: number): boolean => type >= 16 && type <= 23;
export const h265IsVcl = (type: number): boolean => type < 32;

export interface H265Sps {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  compatibilityFlags: number;
  /** the 48 constraint-indicator bits, 6 bytes */
  constraintBytes: Buffer;
  levelIdc: number;
  maxSubLayersMinus1: number;
  temporalIdNesting: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  width: number;
  height: number;
}

export function parseH265Sps(nal: Buffer): H265Sps {
  if (nal.length < 16 || h265NalType(nal) !== H265_NAL.SPS) throw new Error('not an H.265 SPS');
  const rbsp = unescapeRbsp(nal.subarray(2));
  const r = new BitReader(rbsp);
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  const temporalIdNesting = r.u(1);
  // profile_tier_level(1, maxSubLayersMinus1): general part is byte aligned here (bits 8..103)
  const profileSpace = r.u(2);
  const tierFlag = r.u(1);
  const profileIdc = r.u(5);
  const compatibilityFlags = r.u(32) >>> 0;
  const constraintBytes = Buffer.from(rbsp.subarray(6, 12));
  r.skip(48);
  const levelIdc = r.u(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.flag());
    subLevel.push(r.flag());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skip(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc === 3) r.skip(1);
  let width = r.ue();
  let height = r.ue();
  if (r.flag()) {
    const [l, ri, t, b] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const subW = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const subH = chromaFormatIdc === 1 ? 2 : 1;
    width -= subW * (l + ri);
    height -= subH * (t + b);
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new Error(`bad SPS (size ${width}x${height})`);
  return { profileSpace, tierFlag, profileIdc, compatibilityFlags, constraintBytes, levelIdc, maxSubLayersMinus1, temporalIdNesting, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height };
}

function reverseBits32(v: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) out = (out * 2) + ((v >>> i) & 1);
  return out >>> 0;
}

/** Codec string for the sample entry `hvc1`, e.g. hvc1.1.6.L120.90 (ISO 14496-15 Annex E.3). */
export function h265CodecString(sps: H265Sps, entry = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][sps.profileSpace];
  const compat = reverseBits32(sps.compatibilityFlags).toString(16).toUpperCase();
  const tier = sps.tierFlag ? 'H' : 'L';
  const bytes = [...sps.constraintBytes];
  while (bytes.length && bytes[bytes.length - 1] === 0) bytes.pop();
  const constraints = bytes.map((b) => `.${b.toString(16).toUpperCase()}`).join('');
  return `${entry}.${space}${sps.profileIdc}.${compat}.${tier}${sps.levelIdc}${constraints}`;
}

/** HEVCDecoderConfigurationRecord (ISO 14496-15 §8.3.3) with the VPS, SPS and PPS arrays (complete: sample entry hvc1). */
export function buildHvcC(vps: Buffer[], sps: Buffer[], pps: Buffer[], info: H265Sps): Buffer {
  const head = Buffer.alloc(23);
  head[0] = 1;
  head[1] = (info.profileSpace << 6) | (info.tierFlag << 5) | info.profileIdc;
  head.writeUInt32BE(info.compatibilityFlags >>> 0, 2);
  info.constraintBytes.copy(head, 6, 0, 6);
  head[12] = info.levelIdc;
  head.writeUInt16BE(0xf000, 13); // min_spatial_segmentation_idc = 0
  head[15] = 0xfc; // parallelismType unknown
  head[16] = 0xfc | info.chromaFormatIdc;
  head[17] = 0xf8 | (info.bitDepthLuma - 8);
  head[18] = 0xf8 | (info.bitDepthChroma - 8);
  head.writeUInt16BE(0, 19); // avgFrameRate unknown
  head[21] = ((info.maxSubLayersMinus1 + 1) << 3) | (info.temporalIdNesting << 2) | 3;
  head[22] = 3;
  const parts: Buffer[] = [head];
  for (const [type, nals] of [[H265_NAL.VPS, vps], [H265_NAL.SPS, sps], [H265_NAL.PPS, pps]] as const) {
    const h = Buffer.allocUnsafe(3);
    h[0] = 0x80 | type;
    h.writeUInt16BE(nals.length, 1);
    parts.push(h);
    for (const n of nals) {
      const l = Buffer.allocUnsafe(2);
      l.writeUInt16BE(n.length);
      parts.push(l, n);
    }
  }
  return Buffer.concat(parts);
}
