/**
 * npm run bench:wall [-- --duration 40 --walls 16,36,64,36f --settle 10 --fps 25 --protocol h2 --max-full 16]
 *
 * The video wall as operators run it: the real console page (/wall deep link) in Chromium, against a whole node
 * (simulator RTSP → ingest → LL-HLS) over HTTP/2 (TLS; --protocol h1 for HTTP/1.1). The defaults are issue 19's
 * table: 16, 36 and 64 tiles, and a 36-tile wall with one tile focused ("36f": tile 1 on the main stream), each
 * tile its own camera. The wall's decode budget (console/src/wall/decode-budget.ts) adapts to this client; each
 * wall runs --settle s for it to find its level, then --duration s measured:
 *  - moving: tiles whose picture changed at ≥ 1 frame/s (frames presented: requestVideoFrameCallback's count, over the run)
 *  - frame rate per tile (min, and the focused tile's), tiles at full / reduced (keyframes) / still at the end
 *  - stalls per minute (whole wall: a live tile's video not advancing for ≥ 1 s), jumps to the live edge
 *  - glass-to-glass latency: the burnt-in clock strip of the frame on screen vs the wall clock, every 2.5 s per tile
 *  - browser CPU (all Chromium processes, % of one core), the page's main-thread busy time (CDP TaskDuration)
 *  - JS heap after a full GC at the start and the end (a 10-minute run keeps it flat: --duration 600)
 * It prints each goal of the table with the measured figure and its ratio to the goal.
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
const durationS = Number(arg('duration', '40'));
const settleS = Number(arg('settle', '10'));
const walls = arg('walls', '16,36,64,36f').split(',').map((w) => ({ tiles: Number(w.replace(/f$/, '')), focus: w.endsWith('f'), name: w }))
  .filter((w) => w.tiles > 0 && w.tiles <= 64 && [1, 4, 9, 16, 25, 36, 64].includes(w.tiles));
const protocol = arg('protocol', 'h2') as 'h2' | 'h1';
const maxFull = Number(arg('max-full', '16'));
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

/** Installs a 1 s sampler in the page: frames presented per tile (across player restarts), rates seen, stalls. */
const INSTALL_SAMPLER = `(() => {
  window.__bench = { tiles: new Map(), ticks: 0 };
  const last = new WeakMap();
  window.__benchTimer = setInterval(() => {
    window.__bench.ticks++;
    for (const t of document.querySelectorAll('[data-testid="tile"]')) {
      const idx = t.getAttribute('data-index');
      if (!t.getAttribute('data-camera')) continue;
      const e = window.__bench.tiles.get(idx) ?? { presented: 0, full: 0, reduced: 0, still: 0, stalls: 0, resyncs: 0 };
      window.__bench.tiles.set(idx, e);
      e[t.getAttribute('data-rate') || 'full']++;
      const v = t.querySelector('video');
      if (!v || !v.getVideoPlaybackQuality) continue;
      const q = v.getVideoPlaybackQuality();
      // frames that became the picture (the player's requestVideoFrameCallback count); getVideoPlaybackQuality's
      // dropped count where there is none (Chromium counts a 1 fps tile's frames as dropped when nothing painted them)
      const n = v.dataset.presented !== undefined ? Number(v.dataset.presented) : q.totalVideoFrames - q.droppedVideoFrames;
      const run = v.dataset.run || '';
      const prev0 = last.get(v);
      // a new player on the same element (a rendition switch) starts its counters again
      const prev = prev0 && prev0.run === run ? prev0 : prev0 ? { n: 0, st: 0, rs: 0, run } : undefined;
      e.presented += prev === undefined ? 0 : n >= prev.n ? n - prev.n : n;
      // the player's stall and jump counters start again with each player (a rendition switch) too
      const st = Number(v.dataset.stalls || 0), rs = Number(v.dataset.resyncs || 0);
      if (prev !== undefined) { e.stalls += st >= prev.st ? st - prev.st : st; e.resyncs += rs >= prev.rs ? rs - prev.rs : rs; }
      last.set(v, { n, st, rs, run });
    }
  }, 1000);
})()`;

interface TileFigures { presented: number; full: number; reduced: number; still: number; stalls: number; resyncs: number }
interface WallSample { tiles: Record<string, TileFigures>; stalls: number; resyncs: number; heapMB: number; rates: Record<string, string> }

async function wallSample(page: Page): Promise<WallSample> {
  return page.evaluate(`(() => {
    let stalls = 0, resyncs = 0;
    const rates = {};
    for (const t of document.querySelectorAll('[data-testid="tile"]')) rates[t.getAttribute('data-index')] = t.getAttribute('data-rate') || '';
    for (const e of window.__bench.tiles.values()) { stalls += e.stalls; resyncs += e.resyncs; }
    return { tiles: Object.fromEntries([...window.__bench.tiles].map(([k, v]) => [k, { ...v }])), stalls, resyncs, rates,
      heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : NaN };
  })()`) as Promise<WallSample>;
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

interface Goal { wall: string; figure: string; value: number; goal: number; kind: 'min' | 'max'; unit: string }

async function main(): Promise<void> {
  const maxTiles = Math.max(...walls.map((w) => w.tiles));
  const load = () => (readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '));
  console.log(`bench:wall — ${cpus().length} cores, load ${load()}; walls ${walls.map((w) => w.name).join(', ')} over ${protocol}; ${settleS} s to settle + ${durationS} s measured each; simulator ${maxTiles} cameras at ${fps} fps (sub 640x360, main 1280x720, 1 s GOP); full-rate cap ${maxFull}`);

  // the simulator listens on 127.0.0.1: a camera network for this process (the policy reads it at first use)
  process.env.CAMERA_NETWORKS ??= '127.0.0.0/8';
  const db = await openPglite();
  await migrate(db);
  const t0 = Date.now();
  const w = await startWallStack({
    db, cameras: maxTiles, fps, simDataDir: join(tmpdir(), 'streeteye-sim-test-cache'),
    env: { INGEST_IDLE_GRACE_S: '5', INGEST_MAX_SESSIONS: '200', LIVE_URL_TTL_S: '3600', WALL_LIVE_BUDGET: String(maxFull) },
  });
  console.log(`node + simulator + Chromium ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const rows: string[][] = [];
  const goals: Goal[] = [];
  const heapTrends: string[] = [];
  try {
    for (const run of walls) {
      const base = protocol === 'h2' ? w.httpsBase : w.httpBase;
      const context = await w.browser.newContext({ baseURL: base, ignoreHTTPSErrors: true, viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
      const page = await context.newPage();
      const cdp: CDPSession = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const metric = async (name: string) => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? NaN);
      try {
        // console/dist may be rebuilt under us by someone's test run: try the login twice
        await w.login(page, base, 'operator').catch(async () => { await sleep(5000); await w.login(page, base, 'operator'); });
        const ids = w.cams.slice(0, run.tiles).map((c) => c.id);
        await page.goto(`${base}/wall?layout=${run.tiles}&cameras=${ids.join(',')}`);
        const warmStart = Date.now();
        // warm-up: every tile shows something (live or a picture), or 30 s
        while (Date.now() - warmStart < 30_000) {
          const states = await page.evaluate(`[...document.querySelectorAll('[data-testid="tile"]')].map((t) => t.getAttribute('data-state'))`) as string[];
          if (states.length === run.tiles && states.every((x) => x === 'live' || x === 'snapshot')) break;
          await sleep(500);
        }
        const warmS = (Date.now() - warmStart) / 1000;
        // what the tiles say (a wall that does not play says why)
        const said = await page.evaluate(`(() => { const m = {}; for (const t of document.querySelectorAll('[data-testid="tile"]')) { const k = t.getAttribute('data-state') + (t.querySelector('[data-testid="tile-state"]') ? ': ' + t.querySelector('[data-testid="tile-state"]').textContent : ''); m[k] = (m[k] || 0) + 1; } return m; })()`) as Record<string, number>;
        if (Object.keys(said).some((k) => !k.startsWith('live'))) console.log(`  ${run.name}: tiles after warm-up: ${JSON.stringify(said)}`);
        if (run.focus) {
          await page.locator('[data-testid="tile"]').first().click();
          await page.keyboard.press('Enter');
          await page.locator('[data-testid="tile"][data-index="0"][data-stream="main"][data-state="live"]').waitFor({ timeout: 30_000 });
        }
        await sleep(settleS * 1000);
        await page.evaluate(INSTALL_SAMPLER);
        // heap after a full GC: what the page retains, not what the collector has not got to yet
        const gc = () => cdp.send('HeapProfiler.collectGarbage').catch(() => {});
        await gc();
        await sleep(1200);
        const start = await wallSample(page);
        const cpu0 = chromiumTicks();
        const task0 = await metric('TaskDuration');
        const wall0 = performance.now();
        const lat = new Map<number, number[]>();
        const heap: number[] = [start.heapMB];
        const endAt = Date.now() + durationS * 1000;
        let nextHeap = Date.now() + Math.max(10_000, (durationS * 1000) / 6);
        while (Date.now() < endAt) {
          await sleep(Math.min(2500, Math.max(0, endAt - Date.now())));
          for (const fr of await grabStrips(page)) {
            if (!fr) continue;
            const l = readLatency(fr);
            if (l !== null) lat.set(fr.idx, [...(lat.get(fr.idx) ?? []), l]);
          }
          if (Date.now() >= nextHeap) { await gc(); heap.push((await wallSample(page)).heapMB); nextHeap += Math.max(10_000, (durationS * 1000) / 6); }
        }
        const elapsedS = (performance.now() - wall0) / 1000;
        const cpuPct = ((chromiumTicks() - cpu0) / 100 / elapsedS) * 100;
        const mainPct = (((await metric('TaskDuration')) - task0) / elapsedS) * 100;
        const end = await wallSample(page);
        const budget = await page.evaluate(`(() => { const d = document.querySelector('[data-testid="wall-page"]').dataset; return { full: d.fullBudget, moving: d.movingBudget, verdict: d.verdict, dropped: d.droppedRatio, busy: d.busy }; })()`) as Record<string, string>;
        await gc();
        const endHeap = (await wallSample(page)).heapMB;
        heap.push(endHeap);
        const perTileFps = Object.entries(end.tiles).map(([k, e]) => [Number(k), (e.presented - (start.tiles[k]?.presented ?? 0)) / elapsedS] as const);
        const fpsOf = new Map(perTileFps);
        // a keyframe tile shows one new frame per GOP (1 s): one frame of slack over the run for where it starts and ends
        const moving = perTileFps.filter(([, f]) => f >= 0.95).length;
        const minFps = perTileFps.length ? Math.min(...perTileFps.map(([, f]) => f)) : NaN;
        const others = perTileFps.filter(([i]) => !(run.focus && i === 0));
        const rateCount = { full: 0, reduced: 0, still: 0 } as Record<string, number>;
        for (const [k, r] of Object.entries(end.rates)) if (!(run.focus && k === '0') && r in rateCount) rateCount[r]++;
        const stallsPerMin = ((end.stalls - start.stalls) / elapsedS) * 60;
        const all = [...lat.entries()].filter(([i]) => !(run.focus && i === 0)).flatMap(([, xs]) => xs);
        const focusLat = run.focus ? lat.get(0) ?? [] : [];
        const focusFps = run.focus ? fpsOf.get(0) ?? 0 : NaN;
        rows.push([
          run.name, String(run.tiles), f1(warmS), `${moving}/${perTileFps.length}`, f1(minFps), f1(others.length ? others.reduce((a, [, f]) => a + f, 0) / others.length : NaN),
          `${rateCount.full}/${rateCount.reduced}/${rateCount.still}`, `${budget.full ?? '—'} (${budget.verdict ?? '—'}, drop ${budget.dropped ?? '—'}, busy ${budget.busy || '—'})`,
          stallsPerMin.toFixed(2), (((end.resyncs - start.resyncs) / elapsedS) * 60).toFixed(2), f0(cpuPct), f0(mainPct), `${f1(start.heapMB)} → ${f1(endHeap)}`,
          `${f0(pct(all, 50))}/${f0(pct(all, 95))} (${all.length})`, run.focus ? `${f1(focusFps)} fps, ${f0(pct(focusLat, 50))}/${f0(pct(focusLat, 95))} ms (${focusLat.length})` : '—',
        ]);
        heapTrends.push(`${run.name}: heap MB after GC ${heap.map(f1).join(' → ')}`);
        console.log('  ' + rows.at(-1)!.join(' | '));
        const wallName = run.focus ? `focused tile on ${run.tiles}` : `${run.tiles} tiles`;
        if (!run.focus) {
          goals.push({ wall: wallName, figure: 'tiles moving (≥ 1 fps)', value: moving / Math.max(1, perTileFps.length), goal: 1, kind: 'min', unit: `${moving}/${perTileFps.length}` });
          if (run.tiles >= 36) goals.push({ wall: wallName, figure: 'slowest tile, fps', value: minFps, goal: 1, kind: 'min', unit: f1(minFps) });
          goals.push({ wall: wallName, figure: 'latency p95, s', value: pct(all, 95) / 1000, goal: run.tiles >= 64 ? 2 : 1.5, kind: 'max', unit: (pct(all, 95) / 1000).toFixed(2) });
          if (run.tiles < 64) goals.push({ wall: wallName, figure: 'stalls per minute (wall)', value: stallsPerMin, goal: 1, kind: 'max', unit: stallsPerMin.toFixed(2) });
        } else {
          goals.push({ wall: wallName, figure: `frame rate, fps (source ${fps})`, value: focusFps, goal: fps * 0.95, kind: 'min', unit: f1(focusFps) });
          goals.push({ wall: wallName, figure: 'latency p95, s', value: pct(focusLat, 95) / 1000, goal: 1, kind: 'max', unit: (pct(focusLat, 95) / 1000).toFixed(2) });
        }
      } catch (e) {
        rows.push([run.name, String(run.tiles), `failed: ${(e as Error).message.split('\n')[0]}`]);
        console.log('  ' + rows.at(-1)!.join(' | '));
      } finally {
        await context.close();
      }
      await sleep(2000);
    }
  } finally {
    const head = ['wall', 'tiles', 'warm-up s', 'moving ≥ 1 fps', 'slowest tile fps', 'mean fps (unfocused)', 'full/reduced/still at end', 'full budget (verdict, dropped, busy)', 'stalls/min (wall)', 'jumps to live/min', 'browser CPU % (1 core)', 'page main thread %', 'JS heap MB after GC start → end', 'latency p50/p95 ms (samples)', 'focused tile'];
    console.log(`\nbench:wall — ${settleS} s settle + ${durationS} s measured per wall; ${cpus().length} cores, load ${load()} at the end; Chromium headless (software decode); ${protocol}`);
    console.log([head, ...rows].map((r) => '| ' + r.join(' | ') + ' |').join('\n'));
    console.log('\nissue 19 goals (ratio: measured / goal; ≥ 1 passes a minimum, ≤ 1 passes a maximum)');
    console.log('| wall | figure | measured | goal | ratio | |');
    console.log('|---|---|---|---|---|---|');
    for (const g of goals) {
      const ratio = g.value / g.goal;
      const ok = Number.isFinite(ratio) && (g.kind === 'min' ? ratio >= 1 : ratio <= 1);
      console.log(`| ${g.wall} | ${g.figure} | ${g.unit} | ${g.kind === 'min' ? '≥' : '≤'} ${g.goal.toFixed(g.goal % 1 ? 2 : 0)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'} | ${ok ? 'ok' : 'MISSED'} |`);
    }
    for (const h of heapTrends) console.log(h);
    console.log('moving: frames presented (became the picture: requestVideoFrameCallback) per second over the run ≥ 0.95 (1 fps less one frame of slack for the 1 s GOP); stalls: a live tile not advancing for ≥ 1 s (the tile player counts them);');
    console.log('jumps to live: a tile too far behind seeks to the live edge (TilePlayer LIVE_SYNC); latency: wall clock minus the burnt-in clock of the frame on screen.');
    await w.close();
    await db.close();
  }
  process.exit(0);
}

await main();
