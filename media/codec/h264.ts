/** H.264 (ISO 14496-10) parameter sets: the SPS fields an fMP4 init segment needs, avcC, the RFC 6381 codec string. */
import { BitReader, unescapeRbsp } from './bits.js';

export const H264_NAL = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, STAP_A: 24, STAP_B: 25, MTAP16: 26, MTAP24: 27, FU_A: 28, FU_B: 29 } as const;

export const h264NalType = (nal: Buffer): number => nal[0] & 0x1f;

export interface H264Sps {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  width: number;
  height: number;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parse an SPS NAL unit (with its one-byte header). Throws on a truncated or nonsensical SPS. */
export function parseH264Sps(nal: Buffer): H264Sps {
  if (nal.length < 4 || h264NalType(nal) !== H264_NAL.SPS) throw new Error('not an H.264 SPS');
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) r.skip(1); // separate_colour_plane_flag
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.skip(1);
    r.se();
    r.se();
    const n = r.ue();
    if (n > 255) throw new Error('bad SPS (num_ref_frames_in_pic_order_cnt_cycle)');
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.flag()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const subWidthC = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropX = chromaFormatIdc === 0 ? 1 : subWidthC;
  const cropY = (chromaFormatIdc === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - cropX * (crop[0] + crop[1]);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop[2] + crop[3]);
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new Error(`bad SPS (size ${width}x${height})`);
  return { profileIdc, constraintFlags, levelIdc, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();

/** RFC 6381 codec string, e.g. avc1.64001F. */
export function h264CodecString(sps: H264Sps): string {
  return `avc1.${hex2(sps.profileIdc)}${hex2(sps.constraintFlags)}${hex2(sps.levelIdc)}`;
}

/** AVCDecoderConfigurationRecord (ISO 14496-15 §5.3.3), 4-byte NAL lengths. */
export function buildAvcC(sps: Buffer, pps: Buffer[], info: H264Sps): Buffer {
  const parts: Buffer[] = [Buffer.from([1, sps[1], sps[2], sps[3], 0xff, 0xe1])];
  const len = (b: Buffer) => {
    const h = Buffer.allocUnsafe(2);
    h.writeUInt16BE(b.length);
    return h;
  };
  parts.push(len(sps), sps, Buffer.from([pps.length]));
  for (const p of pps) parts.push(len(p), p);
  if (HIGH_PROFILES.has(info.profileIdc)) {
    parts.push(Buffer.from([0xfc | info.chromaFormatIdc, 0xf8 | (info.bitDepthLuma - 8), 0xf8 | (info.bitDepthChroma - 8), 0]));
  }
  return Buffer.concat(parts);
}
