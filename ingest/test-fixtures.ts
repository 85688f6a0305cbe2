/** Test helpers (imported by *.test.ts only): short fixtures made with the resolved ffmpeg. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { FMP4_PER_FRAME_MOVFLAGS } from '../media-tools/ffmpeg-args.js';

export const SOURCE_CLIP = '/work/shared/media/street-pedestrians-30s.mp4';

export function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** An 8 s, 1 s-GOP (10 fps) H.264 copy of the shared street clip, made once per machine. */
export async function oneSecondGopFixture(): Promise<string> {
  const dir = join(tmpdir(), 'streeteye-ingest-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'street-1s-gop.mp4');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  const r = await run(resolveFfmpeg(), [
    '-hide_banner', '-loglevel', 'error', '-y', '-i', SOURCE_CLIP, '-t', '8', '-an',
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', tmp,
  ]);
  if (r.code !== 0) throw new Error(`fixture encode failed: ${r.stderr}`);
  const { renameSync } = await import('node:fs');
  renameSync(tmp, file);
  return file;
}

/** A 4 s, 1 s-GOP H.264 Annex-B loop (320x240, 10 fps) made once per machine: the GB/T 28181 simulated devices' stream. */
export async function h264Loop(): Promise<string> {
  const dir = join(tmpdir(), 'streeteye-gb-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'loop-320x240-10fps.h264');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:d=4',
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', tmp]);
  if (r.code !== 0) throw new Error(r.stderr);
  const { renameSync } = await import('node:fs');
  renameSync(tmp, file);
  return file;
}

/** Remux a file to fragmented MP4 exactly as the ingest does for RTSP (tests only: file input). */
export async function fragmentedMp4(file: string): Promise<Buffer> {
  const r = await run(resolveFfmpeg(), [
    '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v', '-c', 'copy', '-f', 'mp4',
    '-movflags', FMP4_PER_FRAME_MOVFLAGS, 'pipe:1',
  ]);
  if (r.code !== 0) throw new Error(`remux failed: ${r.stderr}`);
  return r.stdout;
}
