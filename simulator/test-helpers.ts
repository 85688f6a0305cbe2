/** Real-client helpers for the simulator's tests and bench: ffprobe/ffmpeg spawned with argument arrays. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg, resolveFfprobe } from '../media-tools/ffmpeg-path.js';
import type { SimCameraInfo } from './index.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const streetClip = join(repoRoot, 'test', 'fixtures', 'media', 'street-pedestrians-30s.mp4');
/** Encodes are cached across test runs here (content-addressed, so never stale). */
export const testCacheDir = join(tmpdir(), 'streeteye-sim-test-cache');

export function withCreds(url: string, user: string, pass: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(pass);
  return u.toString();
}

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const onvif = require('onvif') as typeof import('onvif');

/** Connects the real `onvif` client (GetSystemDateAndTime, GetServices, GetProfiles, GetVideoSources). */
export function onvifConnect(cam: SimCameraInfo, password = cam.password): Promise<{ err?: Error; cam: import('onvif').Cam }> {
  const u = new URL(cam.onvifUrl);
  return new Promise((resolve) => {
    const c: import('onvif').Cam = new onvif.Cam({ hostname: u.hostname, port: Number(u.port), path: u.pathname, username: cam.username, password, timeout: 5000 }, (err) =>
      resolve({ err: err ?? undefined, cam: c }),
    );
  });
}

/** The `onvif` client's callback API as a promise. */
export const call = <T>(fn: (cb: (err: Error | null, v: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

export function authedUrl(cam: SimCameraInfo, stream: 'main' | 'sub'): string {
  return withCreds(stream === 'main' ? cam.rtspMain : cam.rtspSub, cam.username, cam.password);
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(bin: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

export interface ProbeResult {
  ok: boolean;
  codec?: string;
  width?: number;
  height?: number;
  stderr: string;
}

const socketTimeoutOpt = new Map<string, Promise<string>>();
/** The RTSP socket timeout option was `-stimeout` until ffmpeg 5 and `-timeout` after (both in µs). */
export function rtspTimeoutOption(bin: string): Promise<string> {
  let p = socketTimeoutOpt.get(bin);
  if (!p) {
    p = run(bin, ['-hide_banner', '-h', 'demuxer=rtsp'], 10_000).then((r) => (/-stimeout\b/.test(r.stdout.toString()) ? '-stimeout' : '-timeout'));
    socketTimeoutOpt.set(bin, p);
  }
  return p;
}

export async function probe(url: string, transport: 'tcp' | 'udp' = 'tcp', timeoutMs = 20_000): Promise<ProbeResult> {
  const bin = resolveFfprobe();
  const r = await run(
    bin,
    ['-v', 'error', '-rtsp_transport', transport, await rtspTimeoutOption(bin), '5000000', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url],
    timeoutMs,
  );
  try {
    const s = (JSON.parse(r.stdout.toString()) as { streams?: Array<{ codec_name: string; width: number; height: number }> }).streams?.[0];
    return { ok: r.code === 0 && !!s, codec: s?.codec_name, width: s?.width, height: s?.height, stderr: r.stderr };
  } catch {
    return { ok: false, stderr: r.stderr };
  }
}

/** Decode one frame of a live stream to raw RGB, noting the wall clock when it arrived. */
export async function grabFrame(url: string, width: number, height: number, timeoutMs = 20_000): Promise<{ rgb: Buffer; receivedAt: number } | undefined> {
  const bin = resolveFfmpeg();
  const timeoutOpt = await rtspTimeoutOption(bin);
  return new Promise((resolve, reject) => {
    const child = spawn(
      bin,
      ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', timeoutOpt, '5000000', '-i', url, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    let size = 0;
    let receivedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      if (size === 0) receivedAt = Date.now();
      chunks.push(d);
      size += d.length;
    });
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', () => {
      clearTimeout(timer);
      const rgb = Buffer.concat(chunks);
      resolve(rgb.length >= width * height * 3 ? { rgb: rgb.subarray(0, width * height * 3), receivedAt } : undefined);
    });
  });
}
