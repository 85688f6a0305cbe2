/** An encoded loop loaded into memory as pre-packetized RTP frames. */
import { readFile } from 'node:fs/promises';
import { accessUnits, splitAnnexB } from './h264.js';
import { packetizeAccessUnit, type RtpFrame } from './rtp-packetizer.js';
import { LOOP_SECONDS, type Size } from './encoder.js';

export interface LoadedStream {
  frames: RtpFrame[];
  sps: Buffer;
  pps: Buffer;
  width: number;
  height: number;
  fps: number;
  /** Bytes held in memory, for the bench. */
  bytes: number;
}

export async function loadStream(path: string, size: Size, fps: number): Promise<LoadedStream> {
  const es = await readFile(path);
  const { units, sps, pps } = accessUnits(splitAnnexB(es));
  if (!sps || !pps) throw new Error(`${path}: no SPS/PPS`);
  const expected = fps * LOOP_SECONDS;
  if (units.length < expected) throw new Error(`${path}: ${units.length} frames, expected ${expected}`);
  if (!units[0].key) throw new Error(`${path}: loop does not start with an IDR frame`);
  const frames = units.slice(0, expected).map((u) => packetizeAccessUnit(u));
  // Copy SPS/PPS out of the file buffer so only the packet templates keep memory alive.
  const own = (b: Buffer) => Buffer.from(b);
  return { frames, sps: own(sps), pps: own(pps), width: size.width, height: size.height, fps, bytes: frames.reduce((n, f) => n + f.template.length, 0) };
}
