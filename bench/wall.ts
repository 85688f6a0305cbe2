/**
 * npm run bench:wall [-- --duration 120 --tiles 4,16,36 --protocols h2,h1 --h1-tiles 16 --budget36 16,36 --fps 25]
 *
 * The video wall as operators run it: the real console page (/wall deep link) in Chromium, against a whole node
 * (simulator RTSP → ingest → LL-HLS) over HTTP/2 (TLS) and, for comparison, HTTP/1.1. For each wall:
 *  - tiles playing (currentTime advancing over the last 5 s) and snapshot tiles showing a picture
 *  - stalls per minute (a live tile's video not advancing for ≥ 1 s, counted by the tile player)
 *  - browser CPU (all Chromium processes, % of one core) and the page's main-thread busy time (CDP TaskDuration)
 *  - JS heap at the start and end of the run, sampled along the way (a wall must not grow without bound)
 *  - glass-to-glass latency per tile: the burnt-in clock strip of the frame on screen vs the wall clock
 * Each wall runs --duration seconds (default 120; the issue asks for 10 minutes: --duration 600).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { openPglite } from '../server/db/pglite.js';
import { migrate } from '../server/db/migrate.js';
import { readClockStrip, minuteDelta } from '../simulator/clock-strip.js';
import { startWallStack } from '../console/e2e/wall-harness.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1].startsWith('--') ? process.argv[i + 1] : def;
};
const durationS = Number(arg('duration', '120'));
const tileSteps = arg('tiles', '4,16,36').split(',').map(Number).filter((x) => x > 0);
const protocols = arg('protocols', 'h2,h1').split(',') as Array<'h2' | 'h1'>;
const h1Tiles = arg('h1-tiles', '16').split(',').map(Number);
const budgets36 = arg('budget36', '16,36').split(',').map(Number);
const fps = Number(arg('fps', '25'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const f0 = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : '—');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');

// ---- CPU of this process's Chromium descendants, from /proc
function children(): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      m.set(ppid, [...(m.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  return m;
}
function chromiumTicks(): number {
  const kids = children();
  let total = 0;
  const walk = (pid: number) => {
    for (const c of kids.get(pid) ?? []) {
      try {
        const st = readFileSync(`/proc/${c}/stat`, 'utf8');
        const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        if (/chrom/i.test(comm)) total += Number(f[11]) + Number(f[12]);
      } catch { /* gone */ }
      walk(c);
    }
  };
  walk(process.pid);
  return total;
}

interface Sample { playing: number; live: number; snapshots: number; snapshotsWithPicture: number; stalls: number; resyncs: number; heapMB: number }

async function sample(page: Page): Promise<Sample> {
  return page.evaluate(`(() => {
    const tiles = [...document.querySelectorAll('[data-testid="tile"]')];
    const now = performance.now();
    window.__benchLast ??= new Map();
    let playing = 0, live = 0, stalls = 0, resyncs = 0, snaps = 0, pics = 0;
    for (const t of tiles) {
      const v = t.querySelector('video');
      if (t.getAttribute('data-mode') === 'snapshot') { snaps++; const img = t.querySelector('img'); if (img && img.naturalWidth > 0) pics++; }
      if (!v) continue;
      live++;
      stalls += Number(v.dataset.stalls || 0);
      resyncs += Number(v.dataset.resyncs || 0);
      const key = t.getAttribute('data-index');
      const last = window.__benchLast.get(key);
      if (!last || v.currentTime !== last.time) window.__benchLast.set(key, { time: v.currentTime, at: now });
      const seen = window.__benchLast.get(key);
      if (v.currentTime > 0 && now - seen.at < 5000) playing++;
    }
    return { playing, live, snapshots: snaps, snapshotsWithPicture: pics, stalls, resyncs, heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : NaN };
  })()`) as Promise<Sample>;
}

/** Bottom eighth of each live tile's frame (where the clock strip is), gray, with the capture time. */
async function grabStrips(page: Page): Promise<Array<{ idx: number; now: number; w: number; h: number; y0: number; gray: string } | null>> {
  return page.evaluate(`(() => {
    const c = window.__benchCanvas ??= document.createElement('canvas');
    const g = c.getContext('2d', { willReadFrequently: true });
    return [...document.querySelectorAll('[data-testid="tile"][data-mode="live"] video')].map((v) => {
      if (!v.videoWidth || v.readyState < 2) return null;
      const w = v.videoWidth, h = v.videoHeight, y0 = Math.floor(h * 12 / 16);
      c.width = w; c.height = h - y0;
      g.drawImage(v, 0, y0, w, h - y0, 0, 0, w, h - y0);
      const now = Date.now();
      const d = g.getImageData(0, 0, w, h - y0).data;
      const gray = new Uint8Array(w * (h - y0));
      for (let i = 0, j = 0; j < gray.length; i += 4, j++) gray[j] = (d[i] * 77 + d[i + 1] * 150 + d[i + 2] * 29) >> 8;
      let s = ''; for (let k = 0; k < gray.length; k += 8192) s += String.fromCharCode.apply(null, gray.subarray(k, k + 8192));
      return { idx: Number(v.closest('[data-testid="tile"]').getAttribute('data-index')), now, w, h, y0, gray: btoa(s) };
    });
  })()`) as Promise<Array<{ idx: number; now: number; w: number; h: number; y0: number; gray: string } | null>>;
}

function readLatency(fr: { now: number; w: number; h: number; y0: number; gray: string }): number | null {
  const full = Buffer.alloc(fr.w * fr.h);
  Buffer.from(fr.gray, 'base64').copy(full, fr.y0 * fr.w);
  const ms = readClockStrip(full, fr.w, fr.h, 1);
  return ms === null ? null : minuteDelta(fr.now % 60_000, ms);
}

async function main(): Promise<void> {
  const maxTiles = Math.max(...tileSteps);
  const runs: Array<{ proto: 'h2' | 'h1'; tiles: number; budget: number }> = [];
  for (const proto of protocols) {
    for (const n of proto === 'h2' ? tileSteps : tileSteps.filter((t) => h1Tiles.includes(t))) {
      for (const budget of n === 36 ? budgets36 : [Math.max(16, n)]) runs.push({ proto, tiles: n, budget });
    }
  }
  console.log(`bench:wall — ${cpus().length} cores; ${runs.length} walls × ${durationS} s each: ${runs.map((r) => `${r.tiles} tiles/${r.proto}/live≤${r.budget}`).join(', ')}; simulator ${maxTiles} cameras at ${fps} fps, sub 640x360`);

  const db = await openPglite();
  await migrate(db);
  const t0 = Date.now();
  const w = await startWallStack({
    db, cameras: maxTiles, fps, simDataDir: join(tmpdir(), 'streeteye-sim-test-cache'),
    env: { INGEST_IDLE_GRACE_S: '5', INGEST_MAX_SESSIONS: '200', LIVE_URL_TTL_S: '3600' },
  });
  console.log(`node + simulator + Chromium ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const rows: string[][] = [];
  const heapTrends: string[] = [];
  try {
    for (const run of runs) {
      const base = run.proto === 'h2' ? w.httpsBase : w.httpBase;
      const context = await w.browser.newContext({ baseURL: base, ignoreHTTPSErrors: true, viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
      const page = await context.newPage();
      const cdp: CDPSession = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const metric = async (name: string) => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? NaN);
      try {
        // console/dist may be rebuilt under us by someone's test run: try the login twice
        await w.login(page, base, 'operator').catch(async () => { await sleep(5000); await w.login(page, base, 'operator'); });
        await page.evaluate(`localStorage.setItem('streeteye.wall.liveBudget', '${run.budget}')`);
        const ids = w.cams.slice(0, run.tiles).map((c) => c.id);
        await page.goto(`${base}/wall?layout=${run.tiles}&cameras=${ids.join(',')}`);
        // warm-up: wait until the live tiles play (or 30 s)
        const liveTarget = Math.min(run.tiles, run.budget);
        const warmStart = Date.now();
        let s = await sample(page);
        while (Date.now() - warmStart < 30_000) {
          s = await sample(page);
          if (s.playing >= liveTarget) break;
          await sleep(500);
        }
        const warmS = (Date.now() - warmStart) / 1000;
        await sleep(3000);
        // heap after a full GC: what the page retains, not what the collector has not got to yet
        const gc = () => cdp.send('HeapProfiler.collectGarbage').catch(() => {});
        await gc();
        const start = await sample(page);
        const cpu0 = chromiumTicks();
        const task0 = await metric('TaskDuration');
        const wall0 = performance.now();
        const lat = new Map<number, number[]>();
        const heap: number[] = [start.heapMB];
        let minPlaying = Infinity;
        const endAt = Date.now() + durationS * 1000;
        let nextHeap = Date.now() + Math.max(10_000, (durationS * 1000) / 6);
        while (Date.now() < endAt) {
          await sleep(Math.min(5000, Math.max(0, endAt - Date.now())));
          const cur = await sample(page);
          minPlaying = Math.min(minPlaying, cur.playing);
          for (const fr of await grabStrips(page)) {
            if (!fr) continue;
            const l = readLatency(fr);
            if (l !== null) lat.set(fr.idx, [...(lat.get(fr.idx) ?? []), l]);
          }
          if (Date.now() >= nextHeap) { await gc(); heap.push((await sample(page)).heapMB); nextHeap += Math.max(10_000, (durationS * 1000) / 6); }
        }
        const elapsedS = (performance.now() - wall0) / 1000;
        await gc();
        const end = await sample(page);
        heap.push(end.heapMB);
        const cpuPct = ((chromiumTicks() - cpu0) / 100 / elapsedS) * 100;
        const mainPct = (((await metric('TaskDuration')) - task0) / elapsedS) * 100;
        const stallsPerMin = ((end.stalls - start.stalls) / elapsedS) * 60;
        const perTile = [...lat.values()].map((xs) => pct(xs, 50));
        const all = [...lat.values()].flat();
        rows.push([
          run.proto === 'h2' ? 'HTTP/2' : 'HTTP/1.1', String(run.tiles), String(run.budget), f1(warmS),
          `${end.playing}/${end.live} (min ${Number.isFinite(minPlaying) ? minPlaying : '—'})`, run.tiles > run.budget ? `${end.snapshotsWithPicture}/${end.snapshots}` : '—',
          (stallsPerMin).toFixed(2), (((end.resyncs - start.resyncs) / elapsedS) * 60).toFixed(2), f0(cpuPct), f0(mainPct), `${f1(start.heapMB)} → ${f1(end.heapMB)}`,
          `${f0(pct(all, 50))}/${f0(pct(all, 95))}`, perTile.length ? `${f0(Math.min(...perTile))}…${f0(Math.max(...perTile))} (${perTile.length} tiles)` : '—',
        ]);
        heapTrends.push(`${run.tiles} tiles ${run.proto} live≤${run.budget}: heap MB ${heap.map(f1).join(' → ')}`);
        console.log('  ' + rows.at(-1)!.join(' | '));
      } catch (e) {
        rows.push([run.proto, String(run.tiles), String(run.budget), `failed: ${(e as Error).message.split('\n')[0]}`]);
        console.log('  ' + rows.at(-1)!.join(' | '));
      } finally {
        await context.close();
      }
      await sleep(2000);
    }
  } finally {
    const head = ['protocol', 'tiles', 'live budget', 'warm-up s', 'playing/live (min during run)', 'snapshots with picture', 'stalls/min (all tiles)', 'jumps to live/min', 'browser CPU % (1 core)', 'page main thread %', 'JS heap MB after GC start → end', 'latency p50/p95 ms', 'per-tile median latency ms'];
    console.log(`\nbench:wall — each wall ran ${durationS} s after warm-up; ${cpus().length} cores; Chromium headless (software decode)`);
    console.log([head, ...rows].map((r) => '| ' + r.join(' | ') + ' |').join('\n'));
    for (const h of heapTrends) console.log(h);
    console.log('playing: live tiles whose video advanced in the last 5 s at the end; stalls: a live tile not advancing for ≥ 1 s (the tile player counts them);');
    console.log('jumps to live: a tile more than 6 s behind for 4 s seeks to the live edge (at most once per 20 s) (the player counts them);');
    console.log('browser CPU: all Chromium processes (renderer decode included); latency: wall clock minus the burnt-in clock of the frame on screen, sampled every 5 s.');
    await w.close();
    await db.close();
  }
  process.exit(0);
}

await main();
