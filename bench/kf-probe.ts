/**
 * Diagnostic (not a bench): one keyframe-rendition player in Chromium with the wall's hls.js config; prints per second
 * what it presents (requestVideoFrameCallback: frames and their media times), its buffer, hls.js latency and waits.
 * tsx bench/kf-probe.ts [--seconds 30] [--config keyframes|full]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../server/db/pglite.js';
import { migrate } from '../server/db/migrate.js';
import { startWallStack } from '../console/e2e/wall-harness.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};
const seconds = Number(arg('seconds', '30'));
process.env.CAMERA_NETWORKS ??= '127.0.0.0/8';
const db = await openPglite();
await migrate(db);
const w = await startWallStack({ db, cameras: 1, simDataDir: join(tmpdir(), 'streeteye-sim-test-cache'), env: { LIVE_URL_TTL_S: '3600' } });
try {
  const context = await w.browser.newContext({ baseURL: w.httpsBase, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await w.login(page, w.httpsBase, 'operator');
  await page.addScriptTag({ path: 'node_modules/hls.js/dist/hls.js' });
  page.on('console', (m) => console.log('page:', m.text()));
  const id = w.cams[0].id;
  // the wall's keyframe config (console/src/wall/TilePlayer.tsx KEYFRAME_HLS_CONFIG), plus --cfg JSON overrides
  const cfg = JSON.stringify({ lowLatencyMode: true, enableWorker: true, liveSyncDuration: 1.1, maxLiveSyncPlaybackRate: 1.25, liveSyncOnStallIncrease: 0.1, backBufferLength: 3, maxBufferLength: 3, maxMaxBufferLength: 4, maxBufferSize: 2e6, ...JSON.parse(arg('cfg', '{}')) });
  await page.evaluate(`(async () => {
    const live = await (await fetch('/api/cameras/${id}/live?stream=sub')).json();
    const pl = await (await fetch(live.keyframesUrl)).text();
    console.log(pl);
    const v = document.createElement('video'); v.muted = true; v.autoplay = true; document.body.appendChild(v);
    const h = new Hls(${cfg});
    window.__h = h; window.__v = v;
    const P = window.__p = { frames: [], waits: 0, parts: [] };
    h.on(Hls.Events.FRAG_LOADED, (_e, d) => P.parts.push([performance.now() | 0, d.frag.sn, d.part ? d.part.index : -1, (d.part || d.frag).start.toFixed(2), (d.part || d.frag).duration.toFixed(2)]));
    v.addEventListener('waiting', () => P.waits++);
    const cb = (now, m) => { P.frames.push([now | 0, +m.mediaTime.toFixed(3), m.presentedFrames]); v.requestVideoFrameCallback(cb); };
    v.requestVideoFrameCallback(cb);
    if (${process.argv.includes('--raf')}) { const d = document.createElement('div'); document.body.appendChild(d); const f = (t) => { d.textContent = String(t | 0); requestAnimationFrame(f); }; requestAnimationFrame(f); }
    const c = document.createElement('canvas'); c.width = 64; c.height = 36; const g = c.getContext('2d', { willReadFrequently: true });
    P.pics = 0; let lastHash = '';
    setInterval(() => { if (v.readyState < 2) return; g.drawImage(v, 0, 0, 64, 36); const d = g.getImageData(0, 0, 64, 36).data; let hsh = 0; for (let i = 0; i < d.length; i += 4) hsh = (hsh * 31 + d[i]) | 0; if (String(hsh) !== lastHash) { lastHash = String(hsh); P.pics++; } }, 50);
    h.loadSource(live.keyframesUrl); h.attachMedia(v);
    h.on(Hls.Events.MANIFEST_PARSED, () => v.play());
  })()`);
  let lastFrames = 0;
  for (let s = 0; s < seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    const r = await page.evaluate(`(() => { const v = window.__v, h = window.__h, P = window.__p, q = v.getVideoPlaybackQuality();
      const b = v.buffered.length ? [v.buffered.start(0).toFixed(2), v.buffered.end(v.buffered.length - 1).toFixed(2), v.buffered.length] : [];
      const fr = P.frames.slice(); const parts = P.parts.splice(0);
      return { t: v.currentTime.toFixed(2), b, rate: v.playbackRate, rs: v.readyState, tot: q.totalVideoFrames, drop: q.droppedVideoFrames, lat: h.latency?.toFixed(2), target: h.targetLatency?.toFixed(2), waits: P.waits, pics: P.pics, fr: fr.length, lastFr: fr.slice(-2), parts };
    })()`) as { fr: number } & Record<string, unknown>;
    console.log(JSON.stringify({ s, ...r, newFr: r.fr - lastFrames }));
    lastFrames = r.fr;
  }
} finally {
  await w.close();
  await db.close();
}
process.exit(0);
