/** An encoded loop loaded into memory as pre-packetized RTP frames. */
import { readFile } from 'node:fs/promises';
import { accessUnits, splitAnnexB } from './h264.js';
import { hevcAccessUnits } from './h265.js';
import { MAX_PAYLOAD, packetizeAccessUnit, type RtpFrame, type VideoCodec } from './rtp-packetizer.js';
import { LOOP_SECONDS, type Size } from './encoder.js';

export interface LoadedStream {
  frames: RtpFrame[];
  codec: VideoCodec;
  /** H.265 only */
  vps?: Buffer;
  sps: Buffer;
  pps: Buffer;
  width: number;
  height: number;
  fps: number;
  /** Bytes held in memory, for the bench. */
  bytes: number;
}

/** An Annex-B file of the encoder (.h264 or .h265, see encoder.ts) as RTP frames of its codec. */
export async function loadStream(path: string, size: Size, fps: number): Promise<LoadedStream> {
  const es = await readFile(path);
  const codec: VideoCodec = path.endsWith('.h265') ? 'h265' : 'h264';
  const nals = splitAnnexB(es);
  const { units, sps, pps, vps } = codec === 'h265' ? hevcAccessUnits(nals) : { ...accessUnits(nals), vps: undefined };
  if (!sps || !pps || (codec === 'h265' && !vps)) throw new Error(`${path}: no parameter sets`);
  const expected = fps * LOOP_SECONDS;
  if (units.length < expected) throw new Error(`${path}: ${units.length} frames, expected ${expected}`);
  if (!units[0].key) throw new Error(`${path}: loop does not start with an IDR frame`);
  const frames = units.slice(0, expected).map((u) => packetizeAccessUnit(u, MAX_PAYLOAD, codec));
  // Copy SPS/PPS out of the file buffer so only the packet templates keep memory alive.
  const own = (b: Buffer) => Buffer.from(b);
  return { frames, codec, vps: vps && own(vps), sps: own(sps), pps: own(pps), width: size.width, height: size.height, fps, bytes: frames.reduce((n, f) => n + f.template.length, 0) };
}
