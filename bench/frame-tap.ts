/**
 * Frame tap cost: CPU of the tap's decoder (fMP4 from the session on stdin) at 2 fps and keyframes only, against
 * the alternative of a second, decoding output on the session's own ffmpeg (measured as the extra CPU of an
 * RTSP ffmpeg with `-c copy` fMP4 + rawvideo outputs over one with the copy output alone).
 *   npx tsx bench/frame-tap.ts [width height fps]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startSimulator } from '../simulator/index.js';
import { authedUrl, testCacheDir, streetClip } from '../simulator/test-helpers.js';
import { IngestService } from '../ingest/service.js';
import { validateRtspUrl } from '../ingest/rtsp-url.js';
import { FrameTap, type TapRate } from '../ingest/frame-tap.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';

const [w, h, fps] = [Number(process.argv[2] ?? 640), Number(process.argv[3] ?? 360), Number(process.argv[4] ?? 25)];
const SECONDS = 20;
const log = pino({ level: 'warn' });
const ticks = (pid?: number) => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ');
    return Number(s[13]) + Number(s[14]);
  } catch {
    return NaN;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function cpuOf(pid: () => number | undefined): Promise<number> {
  await sleep(4000);
  const c0 = ticks(pid());
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  return ((ticks(pid()) - c0) / 100 / ((Date.now() - t0) / 1000)) * 100;
}

const sim = await startSimulator({ cameras: 1, source: streetClip, dataDir: testCacheDir, fps, mainSize: { width: w, height: h }, subSize: { width: w, height: h }, labelledCameras: 1, discoveryMulticast: false, logger: log });
const cam = sim.cameras()[0];
const out: Record<string, number> = {};
for (const [name, rate] of [['tap_fps2', { mode: 'fps', fps: 2 }], ['tap_keyframes', { mode: 'keyframes' }]] as [string, TapRate][]) {
  const ingest = new IngestService({ logger: log, resolveSource: async () => validateRtspUrl(cam.rtspSub, { username: cam.username, password: cam.password }) });
  const tap = new FrameTap({ manager: ingest.manager, ffmpegPath: ingest.ffmpegPath, logger: log });
  tap.tap(cam.id, rate);
  out[name] = await cpuOf(() => tap.stats()[0]?.pid);
  tap.stop();
  await ingest.stop();
}
// the alternative: the session's ffmpeg with and without a second, decoding output
const base = ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', authedUrl(cam, 'sub'), '-map', '0:v', '-c', 'copy', '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1'];
for (const [name, extra] of [['session_copy_only', []], ['session_copy_plus_fps2_output', ['-map', '0:v', '-vf', 'fps=2', '-vsync', 'vfr', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:3']]] as [string, string[]][]) {
  const child = spawn(resolveFfmpeg(), [...base, ...extra], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  child.stdout.resume();
  (child.stdio[3] as NodeJS.ReadableStream | null)?.resume();
  out[name] = await cpuOf(() => child.pid);
  child.kill('SIGKILL');
}
await sim.stop();
console.log(JSON.stringify({ stream: `${w}x${h}@${fps}`, cpuPercentOfOneCore: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 100) / 100])) }));
void join;
