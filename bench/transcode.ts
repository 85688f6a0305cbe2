/**
 * npm run bench:transcode [-- --seconds 20] [--source street.mp4]   (a real street clip to loop: closer to what cameras send
 *                                                                      than the synthetic pattern, which is cheap to encode)
 *
 * What one H.264 transcode (a browser without H.265, ingest/transcode-rendition.ts) costs: a simulator H.265-only
 * camera (main 1280x720, sub 640x360, 25 fps, 1 s GOP) pulled by a real IngestService (native engine), its
 * transcode started as the transcode.m3u8 route starts it, and the transcoding ffmpeg's CPU read from /proc over the
 * measuring window — for the main (720p) stream and for the sub stream, one after the other. Also: how long from
 * asking for the transcode to its first complete segment (what a tile waits), and the session's own CPU is not
 * counted (it is the same with or without a transcode). The load (uptime) is printed beside the figures: on a
 * shared box they are inflated.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startSimulator } from '../simulator/index.js';
import { IngestService } from '../ingest/service.js';
import type { StreamKind } from '../ingest/camera-session.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, source: { type: 'string' } } });
const SECONDS = Math.max(5, Number(values.seconds) || 20);
const TICK = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

// the simulator listens on 127.0.0.1: a camera network for this process (the policy reads it at first use)
process.env.CAMERA_NETWORKS ??= '127.0.0.0/8';
const logger = pino({ level: 'warn' });
const sim = await startSimulator({
  cameras: 1, h265OnlyCameras: 1, fps: 25, source: values.source, keyframeIntervalS: 1, mainSize: { width: 1280, height: 720 }, subSize: { width: 640, height: 360 },
  dataDir: join(tmpdir(), 'streeteye-sim-bench-cache'), labelledCameras: 0, ptzEvery: 0, discoveryMulticast: false, logger,
});
const cam = sim.cameras()[0];
const ingest = new IngestService({
  logger,
  settings: { transcodeMaxSessions: 2, viewerTtlMs: 600_000, idleGraceMs: 600_000 },
  resolveSource: async (_id, stream) => ({ url: stream === 'main' ? cam.rtspMain : cam.rtspSub, username: cam.username, password: cam.password }),
});
await ingest.start();

const rows: string[] = [];
try {
  for (const stream of ['main', 'sub'] as StreamKind[]) {
    const session = ingest.manager.touch('bench', stream, 'bench');
    if (!(await session.waitForMedia(30_000))) throw new Error(`${stream}: the camera did not start`);
    await sleep(2500); // fps and GOP known (the transcode's GOP follows the source's)
    const asked = Date.now();
    const mux = ingest.transcoder.rendition(session);
    const ok = await mux.waitUntil(() => mux.hasSegment, 30_000);
    if (ok !== 'ok') throw new Error(`${stream}: no transcoded segment within 30 s (${ingest.transcoder.get(session)?.lastError ?? ''})`);
    const firstSegmentMs = Date.now() - asked;
    const t = ingest.transcoder.get(session)!;
    const pid = t.pid!;
    await sleep(2000);
    const c0 = cpuTicks(pid);
    const w0 = Date.now();
    const last0 = mux.lastPart?.seq ?? 0;
    await sleep(SECONDS * 1000);
    ingest.transcoder.rendition(session); // still watched
    const cpuS = (cpuTicks(pid) - c0) / TICK;
    const wallS = (Date.now() - w0) / 1000;
    const parts = (mux.lastPart?.seq ?? 0) - last0;
    const core = (cpuS / wallS) * 100;
    const box = core / cpus().length;
    const size = stream === 'main' ? '1280x720' : '640x360';
    rows.push(`| ${stream} (${size}, 25 fps, H.265 → H.264) | ${core.toFixed(1)} % | ${box.toFixed(1)} % | ${firstSegmentMs} ms | ${(parts / wallS).toFixed(1)} | ${t.dropped} |`);
    console.log(rows[rows.length - 1]);
  }
} finally {
  const [l1, l5] = loadavg();
  console.log(`\nnpm run bench:transcode -- --seconds ${SECONDS}${values.source ? ` --source ${values.source}` : ''}   (${cpus().length} cores, load ${l1.toFixed(2)} / ${l5.toFixed(2)} at the end)`);
  console.log('| stream | ffmpeg CPU (one core = 100 %) | of the box | ask → first segment | parts/s | drops |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  await ingest.stop();
  await sim.stop();
}
