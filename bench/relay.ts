/**
 * npm run bench:relay [-- --steps 100,500,1000 --ffmpeg-steps 100 --engines native,ffmpeg --measure 10 --ondemand 8
 *                         --no-browser --no-baseline --wall 16]
 *
 * Both ingest engines side by side in one run: `native` (in-process RTSP/RTP/fMP4, media/) at --steps and `ffmpeg`
 * (one `-c copy` process per stream) at --ffmpeg-steps; the CPU per session of the two is compared at the largest N
 * both ran. A goals table closes the report (each figure with its ratio to the goal of issue #15).
 *
 * The LL-HLS relay under load, against the camera simulator (run in a child process so its CPU is not counted):
 *  - for each step N: N sub streams live at once → CPU % (of one core and of the box) and RSS per session
 *    (ffmpeg RSS + the Node process's growth, media window included)
 *  - request → first playable part p50/p95 for on-demand cameras (cold: not running, 1 s GOP), over HTTP/2
 *  - glass-to-glass latency: hls.js in a real Chromium reads the burnt-in clock strip vs the wall clock
 *  - baseline: plain ffmpeg HLS (file segments, hls_time 2) with the same measurements
 *  - a 16-tile wall over HTTP/2 and over HTTP/1.1: how many tiles play
 * Prints a table; numbers only, no pass/fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import http2 from 'node:http2';
import Fastify, { type FastifyInstance } from 'fastify';
import { IngestService } from '../ingest/service.js';
import { liveRoutes } from '../ingest/live-routes.js';
import { signLiveToken } from '../ingest/signed-url.js';
import { silentLog } from '../ingest/log.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import type { StreamKind } from '../ingest/camera-session.js';
import { loadOrCreateTlsCertificate } from '../server/tls.js';
import { ALL_ROLES } from '../server/auth/roles.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? 'true' : v;
};

interface SimCam {
  id: string;
  name: string;
  rtspMain: string;
  rtspSub: string;
  username: string;
  password: string;
  subSize?: unknown;
}

// ------------------------------------------------------------------ helpers
function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const median = (xs: number[]) => pct(xs, 50);
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime (clock ticks)
  } catch {
    return 0;
  }
}
function procRssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
function boxTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
const TICK = 100; // USER_HZ on Linux
const spawned: ChildProcess[] = [];

// ------------------------------------------------------------------ the bench
async function main(): Promise<void> {
  const steps = (arg('steps', '100,500,1000') as string).split(',').map(Number).filter((x) => x > 0);
  const ffSteps = (arg('ffmpeg-steps', '100') as string).split(',').map(Number).filter((x) => x > 0);
  const engines = (arg('engines', 'native,ffmpeg') as string).split(',').filter((e): e is 'native' | 'ffmpeg' => e === 'native' || e === 'ffmpeg');
  const stepsOf = (e: 'native' | 'ffmpeg') => (e === 'native' ? steps : ffSteps);
  let currentEngine: 'native' | 'ffmpeg' = engines[0] ?? 'native';
  const measureS = Number(arg('measure', '10'));
  const onDemand = Number(arg('ondemand', '8'));
  const browserOn = arg('no-browser') === undefined;
  const baselineOn = arg('no-baseline') === undefined;
  const wallTiles = Number(arg('wall', '16'));
  const maxN = Math.max(...engines.map((e) => Math.max(...stepsOf(e))));
  const baselineSteps = ffSteps.filter((n) => n <= 50);
  const totalCams = engines.reduce((a, e) => a + Math.max(...stepsOf(e)) + (onDemand + 1) * stepsOf(e).length, 0) + onDemand * (baselineSteps.length + 1) + 4;
  const ncpu = cpus().length;
  const tmp = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const children = spawned;
  const { loadavg } = await import('node:os');
  const load0 = loadavg();
  console.log(`bench:relay — ${ncpu} cores, engines ${engines.join('+')}, native steps ${steps.join('/')}, ffmpeg steps ${ffSteps.join('/')}, ${totalCams} simulated cameras, measure ${measureS} s; load average before: ${load0.map((x) => x.toFixed(2)).join(' ')}`);

  // simulator in its own process
  const simDir = join(tmp, 'sim');
  const t0 = Date.now();
  const sim = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/relay.ts'), '--sim-child', String(totalCams), '--data-dir', join(tmpdir(), 'streeteye-sim-test-cache')], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
  children.push(sim);
  const cams: SimCam[] = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: sim.stdout! });
    rl.on('line', (l) => {
      if (l.startsWith('{')) resolve((JSON.parse(l) as { cameras: SimCam[] }).cameras);
    });
    sim.on('exit', (c) => reject(new Error(`simulator exited (${c})`)));
  });
  console.log(`simulator ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${sim.pid})`);
  const simPid = sim.pid!;
  let nextCam = 0;
  const take = (k: number) => {
    const out = cams.slice(nextCam, nextCam + k);
    nextCam += k;
    return out;
  };
  const byId = new Map(cams.map((c) => [c.id, c]));

  // ingest + HTTP/2 (TLS, self-signed) and HTTP/1.1 listeners
  const ingest = new IngestService({
    logger: silentLog,
    settings: { maxSessions: maxN + 50, idleGraceMs: 2000, viewerTtlMs: 5000, startWaitMs: 15_000 },
    resolveSource: async (id: string, stream: StreamKind) => {
      const c = byId.get(id)!;
      return { url: stream === 'main' ? c.rtspMain : c.rtspSub, username: c.username, password: c.password, engine: currentEngine };
    },
  });
  await ingest.start();
  const key = Buffer.alloc(32, 9);
  const baselineDir = join(tmp, 'baseline');
  const tls = await loadOrCreateTlsCertificate(join(tmp, 'tls'));
  const build = async (h2: boolean): Promise<FastifyInstance> => {
    const app = (h2 ? Fastify({ http2: true, https: { allowHTTP1: true, ...tls } } as never) : Fastify()) as unknown as FastifyInstance;
    if (arg('debug-player')) {
      app.addHook('onRequest', async (req) => { (req as unknown as { t0: number }).t0 = Date.now(); });
      app.addHook('onResponse', async (req, rep) => { if (req.url.includes('m3u8')) console.log(`${new Date().toISOString().slice(17, 23)} ${rep.statusCode} ${Date.now() - (req as unknown as { t0: number }).t0}ms ${req.url.replace(/\/live\/[^?]*\//, '…/')}`); });
    }
    await app.register(liveRoutes, { roles: ALL_ROLES, ingest, urlKey: key, getVisibleCamera: async () => null, userMaySee: async () => true });
    const hlsJs = await readFile(join(ROOT, 'node_modules/hls.js/dist/hls.min.js'));
    app.get('/bench/hls.min.js', async (_q, r) => r.header('content-type', 'text/javascript').send(hlsJs));
    app.get('/bench/player.html', async (_q, r) => r.header('content-type', 'text/html').send(PLAYER_HTML));
    app.get<{ Params: { cam: string; file: string } }>('/baseline/:cam/:file', async (q, r) => {
      const p = join(baselineDir, q.params.cam.replace(/[^\w-]/g, ''), q.params.file.replace(/[^\w.-]/g, ''));
      if (!existsSync(p)) return r.code(404).send();
      return r.header('content-type', p.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t').header('cache-control', 'no-cache').send(await readFile(p));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  };
  const app2 = await build(true);
  const app1 = await build(false);
  const port = (a: FastifyInstance) => (a.server.address() as { port: number }).port;
  const h2Base = `https://127.0.0.1:${port(app2)}`;
  const h1Base = `http://127.0.0.1:${port(app1)}`;
  const liveUrl = (camId: string, stream: StreamKind = 'sub') =>
    `/live/${camId}/${stream}/${signLiveToken(key, { cameraId: camId, stream, userId: 'bench', exp: Math.floor(Date.now() / 1000) + 3600 })}/index.m3u8`;

  // one HTTP/2 client session for the on-demand measurements
  let h2c = http2.connect(h2Base, { rejectUnauthorized: false });
  h2c.on('error', () => {});
  const h2get = (path: string): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      // a session the server closed (idle, or a GOAWAY on a loaded box) is replaced, not fatal to the figures
      if (h2c.destroyed || h2c.closed) {
        h2c = http2.connect(h2Base, { rejectUnauthorized: false });
        h2c.on('error', () => {});
      }
      const req = h2c.request({ ':path': path });
      const chunks: Buffer[] = [];
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end();
    });

  /** request → first playable part: GET the playlist of a cold camera (blocks until media), then its first part. */
  const firstPart = async (camId: string): Promise<number> => {
    const t = performance.now();
    const url = liveUrl(camId);
    const pl = await h2get(url);
    if (pl.status !== 200) throw new Error(`playlist ${pl.status}: ${pl.body.toString().slice(0, 200)}`);
    const text = pl.body.toString();
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
    const part = /#EXT-X-PART:[^\n]*URI="([^"]+)"/.exec(text)?.[1];
    if (!init || !part) throw new Error('playlist without init/part');
    const dir = url.replace(/index\.m3u8$/, '');
    const [a, b] = await Promise.all([h2get(dir + init), h2get(dir + part)]);
    if (a.status !== 200 || b.status !== 200) throw new Error(`media ${a.status}/${b.status}`);
    return performance.now() - t;
  };

  // Chromium
  let browser: import('playwright-core').Browser | undefined;
  if (browserOn) {
    try {
      const { launchChromium } = await import('../test/find-chromium.js');
      browser = await launchChromium(['--autoplay-policy=no-user-gesture-required', '--ignore-certificate-errors']);
    } catch (e) {
      console.log(`(no Chromium: ${(e as Error).message.split('\n')[0]}; latency skipped)`);
    }
  }
  const { readClockStrip, minuteDelta } = await import('../simulator/clock-strip.js');

  /** Play sources in tiles; returns per-tile first-frame time and latency samples read from the clock strip. */
  const play = async (base: string, sources: string[], lowLatency: boolean, seconds: number) => {
    if (!browser) return undefined;
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    try {
      await page.goto(`${base}/bench/player.html`);
      const started = Date.now();
      await page.evaluate(({ srcs, ll }) => (globalThis as unknown as { startTiles: (s: string[], l: boolean) => void }).startTiles(srcs, ll), { srcs: sources, ll: lowLatency });
      const lat: number[][] = sources.map(() => []);
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        await sleep(400);
        const frames = (await page.evaluate(() => (globalThis as unknown as { grab: () => unknown }).grab())) as Array<{ now: number; w: number; h: number; y0: number; bw: number; bh: number; gray: string } | null>;
        frames.forEach((fr, i) => {
          if (!fr) return;
          const full = Buffer.alloc(fr.w * fr.h);
          const band = Buffer.from(fr.gray, 'base64');
          for (let y = 0; y < fr.bh; y++) band.copy(full, (fr.y0 + y) * fr.w, y * fr.bw, (y + 1) * fr.bw);
          const ms = readClockStrip(full, fr.w, fr.h, 1);
          if (ms !== null) lat[i].push(minuteDelta(fr.now % 60_000, ms));
        });
      }
      const firstFrame = (await page.evaluate(() => (globalThis as unknown as { firstFrameAt: (number | null)[] }).firstFrameAt)) as (number | null)[];
      const errors = (await page.evaluate(() => (globalThis as unknown as { fatal: string[] }).fatal)) as string[];
      if (arg('debug-player')) console.log(((await page.evaluate(() => (globalThis as unknown as { timeline?: string[] }).timeline)) ?? []).slice(0, 40).join('\n'));
      const stalls = (await page.evaluate(() => (globalThis as unknown as { stalls: number[] }).stalls)) as number[];
      return { firstFrameMs: firstFrame.map((t) => (t ? t - started : NaN)), latency: lat, errors, stalls };
    } finally {
      await ctx.close();
    }
  };

  const rows: string[][] = [];
  const head = ['mode', 'N', 'live', 'CPU %/sess (1 core)', 'ingest % box', 'box busy %', 'RSS MB/sess', 'held MB/sess', 'first part p50/p95 ms', 'player 1st frame ms', 'latency p50/p95 ms', 'stalls'];

  // ---------------------------------------------------------------- LL-HLS steps
  const wallRows: string[] = [];
  let wallDone = false;
  const results: Array<{ engine: string; n: number; live: number; cpuPerSess: number; boxPct: number; rssPerSess: number; odP95: number; latP50: number; load: number }> = [];
  for (const engine of engines) {
  currentEngine = engine;
  const running: Array<{ release(): void }> = [];
  let liveCams: SimCam[] = [];
  const firstCam = nextCam;
  global.gc?.();
  const nodeRssBase = process.memoryUsage().rss;
  for (const n of stepsOf(engine)) {
    const add = take(n - liveCams.length);
    for (const c of add) running.push(ingest.manager.acquire(c.id, 'sub', 'bench'));
    liveCams = [...liveCams, ...add];
    const sessions = liveCams.map((c) => ingest.manager.get(c.id, 'sub')!);
    const startWait = Date.now();
    await Promise.all(sessions.map((s) => s.waitForMedia(60_000)));
    const live = sessions.filter((s) => s.state === 'live').length;
    console.log(`N=${n}: ${live}/${n} live after ${((Date.now() - startWait) / 1000).toFixed(1)} s`);
    await sleep(3000);
    const pids = sessions.map((s) => s.pid).filter((p): p is number => !!p);
    const ff0 = pids.map(procTicks);
    const node0 = process.cpuUsage();
    const box0 = boxTicks();
    const sim0 = procTicks(simPid);
    const w0 = performance.now();
    await sleep(measureS * 1000);
    const wall = (performance.now() - w0) / 1000;
    const ffCpu = pids.map((p, i) => procTicks(p) - ff0[i]).reduce((a, b) => a + b, 0) / TICK;
    const nodeCpu = (() => {
      const d = process.cpuUsage(node0);
      return (d.user + d.system) / 1e6;
    })();
    const box1 = boxTicks();
    const simCpu = (procTicks(simPid) - sim0) / TICK;
    const ingestCpuPct = ((ffCpu + nodeCpu) / wall) * 100; // % of one core
    const ffRss = pids.map(procRssKb).reduce((a, b) => a + b, 0) / 1024;
    const nodeGrowth = Math.max(0, (process.memoryUsage().rss - nodeRssBase) / 1024 / 1024);
    const held = sessions.reduce((a, s) => a + s.muxer.heldBytes, 0) / 1024 / 1024;
    const boxBusy = ((box1.busy - box0.busy) / (box1.total - box0.total)) * 100;
    console.log(`  ffmpeg ${f1((ffCpu / wall) * 100)}% node ${f1((nodeCpu / wall) * 100)}% sim ${f1((simCpu / wall) * 100)}% (of one core); ffmpeg RSS ${f1(ffRss)} MB, node +${f1(nodeGrowth)} MB`);

    // on-demand cold starts while N run
    const od: number[] = [];
    for (const c of take(onDemand)) {
      try {
        od.push(await firstPart(c.id));
      } catch (e) {
        console.log(`  on-demand ${c.name}: ${(e as Error).message}`);
      }
      await sleep(300);
    }
    // glass-to-glass on a cold camera in Chromium
    let ff = NaN;
    let stalls = NaN;
    let lat: number[] = [];
    const pc = take(1)[0];
    const res = await play(h2Base, [liveUrl(pc.id)], true, 12);
    if (res) {
      ff = res.firstFrameMs[0];
      stalls = res.stalls[0];
      lat = res.latency[0].slice(Math.floor(res.latency[0].length / 4)); // after the player settled
      if (res.errors.length) console.log(`  player errors: ${res.errors.join('; ')}`);
    }
    // the 16-tile wall runs once, at the first step with enough live cameras (a quieter box: it is about connections)
  // ---------------------------------------------------------------- 16-tile wall: HTTP/2 vs HTTP/1.1
    if (browser && wallTiles > 0 && !wallDone && liveCams.length >= wallTiles) {
      wallDone = true;
      const tiles = liveCams.slice(0, wallTiles).map((c) => liveUrl(c.id));
      for (const [label, base] of [['HTTP/2 (TLS)', h2Base], ['HTTP/1.1', h1Base]] as const) {
        const r = await play(base, tiles, true, 15);
        if (!r) continue;
        const playing = r.latency.filter((l) => l.length >= 5).length;
        const all = r.latency.flatMap((l) => l.slice(Math.floor(l.length / 3)));
        wallRows.push(`${wallTiles}-tile wall over ${label}: ${playing}/${wallTiles} tiles playing (≥5 clock readings in 15 s), ${r.stalls.reduce((a, b) => a + b, 0)} stalls; first frames p50 ${Math.round(median(r.firstFrameMs.filter(Number.isFinite)))} ms, max ${Math.round(Math.max(...r.firstFrameMs.map((x) => (Number.isFinite(x) ? x : 0))))} ms; latency p50/p95 ${Math.round(median(all))}/${Math.round(pct(all, 95))} ms${r.errors.length ? `; errors: ${r.errors.slice(0, 3).join('; ')}` : ''}`);
        console.log('  ' + wallRows.at(-1));
      }
    }
    results.push({ engine, n, live, cpuPerSess: ingestCpuPct / n, boxPct: ingestCpuPct / ncpu, rssPerSess: (ffRss + nodeGrowth) / n, odP95: pct(od, 95), latP50: median(lat), load: loadavg()[0] });
    rows.push([`LL-HLS ${engine}`, String(n), `${live}`, f2(ingestCpuPct / n), f1(ingestCpuPct / ncpu), f1(boxBusy), f1((ffRss + nodeGrowth) / n), f2(held / n), `${Math.round(median(od))}/${Math.round(pct(od, 95))}`, f1(ff), `${Math.round(median(lat))}/${Math.round(pct(lat, 95))}`, String(stalls)]);
    console.log('  ' + rows.at(-1)!.join(' | '));
  }

  for (const l of running) l.release();
  // every session of this engine (steady and on-demand) gone before the next engine starts
  await Promise.all(cams.slice(firstCam, nextCam).map((c) => ingest.manager.whenStopped(c.id)));
  await sleep(2000);
  }
  await ingest.manager.stop();

  // ---------------------------------------------------------------- baseline: plain ffmpeg HLS, hls_time 2
  if (baselineOn) {
    const ffmpeg = resolveFfmpeg();
    const procs: ChildProcess[] = [];
    const startHls = (c: SimCam): ChildProcess => {
      const dir = join(baselineDir, c.id);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const u = new URL(c.rtspSub);
      u.username = encodeURIComponent(c.username);
      u.password = encodeURIComponent(c.password);
      const p = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-i', u.toString(), '-map', '0:v', '-c', 'copy', '-f', 'hls', '-hls_time', '2', '-hls_list_size', '6', '-hls_flags', 'delete_segments+independent_segments', join(dir, 'index.m3u8')], { stdio: ['ignore', 'ignore', 'ignore'] });
      procs.push(p);
      children.push(p);
      return p;
    };
    const waitPlaylist = async (c: SimCam, timeoutMs = 30_000): Promise<number> => {
      const t = performance.now();
      const file = join(baselineDir, c.id, 'index.m3u8');
      while (performance.now() - t < timeoutMs) {
        if (existsSync(file) && /#EXTINF/.test(readFileSync(file, 'utf8'))) return performance.now() - t;
        await sleep(25);
      }
      return NaN;
    };
    nextCam = 0; // the LL-HLS sessions are stopped: reuse the same cameras
    let base: SimCam[] = [];
    for (const n of baselineSteps) {
      const add = take(n - base.length);
      base = [...base, ...add];
      for (const c of add) startHls(c);
      await Promise.all(add.map((c) => waitPlaylist(c, 60_000)));
      await sleep(3000);
      const pids = procs.slice(0, n).map((p) => p.pid!).filter(Boolean);
      const ff0 = pids.map(procTicks);
      const box0 = boxTicks();
      const w0 = performance.now();
      await sleep(measureS * 1000);
      const wall = (performance.now() - w0) / 1000;
      const ffCpu = pids.map((p, i) => procTicks(p) - ff0[i]).reduce((a, b) => a + b, 0) / TICK;
      const box1 = boxTicks();
      const rss = pids.map(procRssKb).reduce((a, b) => a + b, 0) / 1024;
      const od: number[] = [];
      for (const c of take(onDemand)) {
        const t = performance.now();
        startHls(c);
        const w = await waitPlaylist(c);
        if (Number.isFinite(w)) od.push(performance.now() - t);
      }
      let ffr = NaN;
      let stalls = NaN;
      let lat: number[] = [];
      const pc = take(1)[0];
      startHls(pc);
      const coldWait = await waitPlaylist(pc); // the player can only start once the playlist lists a segment
      const res = await play(h1Base, [`/baseline/${pc.id}/index.m3u8`], false, 14);
      if (res) {
        ffr = coldWait + res.firstFrameMs[0];
        stalls = res.stalls[0];
        lat = res.latency[0].slice(Math.floor(res.latency[0].length / 4));
      }
      const alive = procs.slice(0, n).filter((p) => p.exitCode === null).length;
      rows.push(['ffmpeg HLS hls_time 2', String(n), String(alive), f2(((ffCpu / wall) * 100) / pids.length), f1(((ffCpu / wall) * 100) / ncpu), f1(((box1.busy - box0.busy) / (box1.total - box0.total)) * 100), f1(rss / pids.length), '(disk)', `${Math.round(median(od))}/${Math.round(pct(od, 95))}`, f1(ffr), `${Math.round(median(lat))}/${Math.round(pct(lat, 95))}`, String(stalls)]);
      console.log('  ' + rows.at(-1)!.join(' | '));
    }
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
  }

  // ---------------------------------------------------------------- report
  console.log('\n' + [head, ...rows].map((r) => '| ' + r.join(' | ') + ' |').join('\n'));
  const nat = results.filter((r) => r.engine === 'native');
  const ffm = results.filter((r) => r.engine === 'ffmpeg');
  if (nat.length) {
    // the largest N where every stream was live and ingest used < 60 % of the box
    const ok = nat.filter((r) => r.live === r.n && r.boxPct < 60);
    const top = ok.length ? ok[ok.length - 1] : undefined;
    const biggest = nat[nat.length - 1];
    const same = ffm.length ? [...nat].reverse().find((r) => ffm.some((f) => f.n === r.n)) ?? nat[0] : undefined;
    const ffSame = same ? ffm.find((f) => f.n === same.n) ?? ffm[ffm.length - 1] : undefined;
    const cpuRatio = same && ffSame ? same.cpuPerSess / ffSame.cpuPerSess : NaN;
    const keyframeWaitMs = 1000; // 1 s GOP: a cold start waits up to one GOP for its keyframe
    const goals: Array<[string, string, string, number]> = [
      ['concurrent sub streams (all live, ingest < 60 % of the box)', top ? `${top.n} (${f1(top.boxPct)} % of the box)` : `none of ${nat.map((r) => r.n).join('/')}`, '≥ 1000', (top?.n ?? 0) / 1000],
      ['memory per session, media window included', `${f2(biggest.rssPerSess)} MB (N=${biggest.n})`, '< 3 MB', biggest.rssPerSess / 3],
      ['cold start: request → first playable part p95', `${Math.round(Math.max(...nat.map((r) => r.odP95).filter(Number.isFinite)))} ms`, `≤ ${keyframeWaitMs + 150} ms (keyframe wait ≤ ${keyframeWaitMs} + 150)`, Math.max(...nat.map((r) => r.odP95).filter(Number.isFinite)) / (keyframeWaitMs + 150)],
      ['glass-to-glass in Chromium p50', `${Math.round(median(nat.map((r) => r.latP50).filter(Number.isFinite)))} ms`, '≤ 800 ms', median(nat.map((r) => r.latP50).filter(Number.isFinite)) / 800],
      ['native vs ffmpeg CPU per session (same N)', same && ffSame ? `${f2(same.cpuPerSess)} / ${f2(ffSame.cpuPerSess)} % of a core at N=${same.n} → ${f2(cpuRatio)}` : '— (ffmpeg not run)', '≤ 0.3', cpuRatio / 0.3],
    ];
    console.log('\n| figure | measured | goal | ratio to goal |\n|---|---|---|---|');
    for (const [name, v, g, r] of goals) console.log(`| ${name} | ${v} | ${g} | ${Number.isFinite(r) ? r.toFixed(2) : '—'} |`);
    console.log(`ratio to goal: measured / goal (≤ 1 meets a "≤"/"<" goal; ≥ 1 meets the "≥" goal). Load average (1 min) during the steps: ${results.map((r) => `${r.engine}@${r.n} ${r.load.toFixed(2)}`).join(', ')}; before the run: ${load0[0].toFixed(2)}.`);
  }
  for (const w of wallRows) console.log(w);
  console.log(`\nCPU %/sess: ffmpeg + this Node process per session, in % of one core; "ingest % box" = that total over all ${ncpu} cores; box busy includes the simulator and Chromium.`);
  console.log('first part: HTTP/2 GET of the playlist of a cold camera (session starts on request) until init + first part are received; baseline: ffmpeg start until its playlist lists a segment.');
  console.log('stalls: "waiting" events of the <video> more than 2 s after its first frame (rebuffering).');
  console.log('player 1st frame: hls.js in Chromium, from loadSource to the first rendered frame (cold camera for LL-HLS). latency: wall clock minus the burnt-in clock of the frame on screen.');

  h2c.close();
  await browser?.close();
  await app1.close();
  await app2.close();
  sim.stdin!.end();
  await new Promise((r) => (sim.exitCode !== null ? r(undefined) : sim.once('exit', r)));
  rmSync(tmp, { recursive: true, force: true });
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  process.exit(0);
}


const PLAYER_HTML = `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111;display:grid;grid-template-columns:repeat(4,1fr);gap:2px}
video{width:100%;aspect-ratio:16/9;background:#000}</style>
<script src="/bench/hls.min.js"></script></head><body>
<script>
window.firstFrameAt = []; window.fatal = []; window.stalls = []; const videos = [];
window.startTiles = (srcs, ll) => {
  srcs.forEach((src, i) => {
    const v = document.createElement('video'); v.muted = true; v.autoplay = true; v.playsInline = true;
    document.body.appendChild(v); videos.push(v); window.firstFrameAt[i] = null;
    const mark = () => { if (!window.firstFrameAt[i]) window.firstFrameAt[i] = Date.now(); };
    window.stalls[i] = 0; v.addEventListener('waiting', () => { if (window.firstFrameAt[i] && Date.now() - window.firstFrameAt[i] > 2000) window.stalls[i]++; });
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(mark); else v.addEventListener('playing', mark, { once: true });
    const hls = new Hls({ lowLatencyMode: ll, backBufferLength: 4, liveSyncDurationCount: ll ? undefined : 3 });
    if (i === 0) { window.timeline = []; const t0 = Date.now(); for (const ev of ['MANIFEST_LOADED','LEVEL_LOADED','FRAG_LOADING','FRAG_LOADED','BUFFER_APPENDED','FRAG_BUFFERED']) hls.on(Hls.Events[ev], (_e, d) => window.timeline.push((Date.now() - t0) + ' ' + ev + ' ' + (d && d.frag ? d.frag.sn + (d.part ? '.' + d.part.index : '') + ' ' + d.frag.start.toFixed(2) : '') + (d && d.details ? ' live=' + d.details.live + ' edge=' + (d.details.edge||0).toFixed(2) + ' fragments=' + d.details.fragments.length + ' parts=' + (d.details.partList||[]).length : ''))); v.addEventListener('playing', () => window.timeline.push((Date.now() - t0) + ' playing ct=' + v.currentTime.toFixed(2))); }
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) { window.fatal.push(i + ':' + d.details); hls.startLoad(); } });
    hls.loadSource(src); hls.attachMedia(v); v.play().catch(() => {});
  });
};
window.grab = () => videos.map((v) => {
  if (!v.videoWidth || v.readyState < 2) return null;
  const w = v.videoWidth, h = v.videoHeight;
  const c = window._c || (window._c = document.createElement('canvas'));
  c.width = w; c.height = h; const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, w, h); const now = Date.now();
  // only the band with the clock strip (bottom 3/16 of the frame, left 3/4): cheap enough for 16 tiles
  const y0 = Math.floor(h - 3 * h / 16), bw = Math.ceil(w * 0.75), bh = h - y0;
  const d = g.getImageData(0, y0, bw, bh).data; const gray = new Uint8Array(bw * bh);
  for (let i = 0, j = 0; j < gray.length; i += 4, j++) gray[j] = (d[i] * 77 + d[i + 1] * 150 + d[i + 2] * 29) >> 8;
  let s = ''; for (let k = 0; k < gray.length; k += 8192) s += String.fromCharCode.apply(null, gray.subarray(k, k + 8192));
  return { now, w, h, y0, bw, bh, gray: btoa(s) };
});
</script></body></html>`;

// ------------------------------------------------------------------ simulator child process
if (arg('sim-child')) {
  const n = Number(arg('sim-child'));
  const { startSimulator } = await import('../simulator/index.js');
  const dataDir = arg('data-dir')!;
  // one shared encode for the whole fleet (the clock strip is in every picture); 1 s GOP, 640x360 sub at 25 fps
  const pino = (await import('pino')).default;
  const sim = await startSimulator({ cameras: n, dataDir, keyframeIntervalS: 1, labelledCameras: 0, logger: pino({ level: 'warn' }) });
  process.stdout.on('error', () => {});
  process.stdout.write(JSON.stringify({ cameras: sim.cameras() }) + '\n');
  const stop = async () => {
    await sim.stop();
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
} else {
  await main().catch((e) => {
    console.error(e);
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.exit(1);
  });
}

