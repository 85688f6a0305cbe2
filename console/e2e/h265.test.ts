import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDb } from '../../test/db.js';
import type { Db } from '../../server/db/db.js';
import { startWallStack, type WallStack } from './wall-harness.js';
import { resolveFfprobe } from '../../media-tools/ffmpeg-path.js';
import { run } from '../../ingest/test-fixtures.js';

/**
 * H.265 cameras on the wall in a real Chromium that cannot play H.265 (MediaSource.isTypeSupported says no for hvc1):
 * simulator cameras (one H.264, one H.265 main + H.264 sub, one H.265 on both streams) → ingest → LL-HLS → hls.js.
 *   - the H.265 main stream of a focused tile plays through the camera's H.264 sub stream;
 *   - the H.265-only camera, while the node's one transcode place (TRANSCODE_MAX_SESSIONS=1) is taken, shows the
 *     budget state (无法播放 cannot play here: 转码名额已满), then, once that transcode's viewer has gone, plays
 *     through the server's H.264 transcode (video advances; ffprobe reads the rendition as h264).
 * Nothing asserts wall-clock durations: states, attributes and currentTime progress.
 */
let db: Db;
let w: WallStack;
let context: BrowserContext;
let page: Page;
let work: string;
interface Video { currentTime: number; videoWidth: number; videoHeight: number; dataset: Record<string, string | undefined> }
const SUB = { width: 320, height: 180 };

const tiles = () => page.locator('[data-testid="tile"]');
const shots = process.env.SCREENSHOT_DIR;
const shot = async (name: string) => { if (shots) await page.screenshot({ path: `${shots}/h265-${name}.png` }); };

async function advances(index: number, by = 1): Promise<void> {
  const video = tiles().nth(index).locator('video');
  const t0 = await video.evaluate((v: Video) => v.currentTime);
  await expect.poll(async () => (await video.evaluate((v: Video) => v.currentTime)) - t0, { timeout: 20_000, interval: 500 }).toBeGreaterThan(by);
}

describe('H.265 cameras on the wall (Chromium without H.265)', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'streeteye-h265-e2e-'));
    db = await createTestDb('pglite');
    w = await startWallStack({
      db, cameras: 3, h265Cameras: 1, h265OnlyCameras: 1, fps: 10,
      mainSize: { width: 640, height: 360 }, subSize: SUB,
      env: { TRANSCODE_MAX_SESSIONS: '1', INGEST_VIEWER_TTL_S: '3', INGEST_IDLE_GRACE_S: '5', INGEST_WATCHDOG_S: '4' },
    });
    expect(w.cams.map((c) => [c.sim.mainCodec, c.sim.subCodec])).toEqual([['h264', 'h264'], ['h265', 'h264'], ['h265', 'h265']]);
    context = await w.browser.newContext({ baseURL: w.httpsBase, ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    page = await context.newPage();
    await w.login(page, w.httpsBase, 'operator');
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await w?.close();
    await db?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('this Chromium plays H.264 and not H.265 (what makes the test mean something)', async () => {
    const can = await page.evaluate(`[MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001F"'), MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L93.90"')]`);
    expect(can).toEqual([true, false]);
  });

  it('a focused tile of an H.265 main stream plays the camera\'s H.264 sub stream', async () => {
    const cam = w.cams[1];
    await page.goto(`/wall?layout=4&cameras=${cam.id}`);
    await expect.poll(() => tiles().nth(0).getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await tiles().nth(0).dblclick();
    await expect.poll(() => tiles().nth(0).getAttribute('data-stream')).toBe('main');
    const video = tiles().nth(0).locator('video');
    await expect.poll(() => video.evaluate((v: Video) => `${v.dataset.via}|${v.videoWidth}x${v.videoHeight}`), { timeout: 30_000 }).toBe(`sub|${SUB.width}x${SUB.height}`);
    await expect.poll(() => tiles().nth(0).getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await advances(0);
    // no transcode for a camera with a playable sub stream
    expect(w.ctx.ingest.transcoder.size).toBe(0);
    await page.keyboard.press('Enter');
  });

  it('an H.265-only camera says why while the transcode budget is full, then plays the H.264 transcode', async () => {
    // another viewer holds the node's one transcode place (the H.265 main stream of camera 2), asking every second
    const holder = await (await fetch(`${w.httpBase}/api/cameras/${w.cams[1].id}/live?stream=main`, { headers: { cookie: await sessionCookie() } })).json() as { transcodeUrl: string };
    const transcodeUrl = new URL(holder.transcodeUrl, w.httpBase).toString();
    await expect.poll(async () => (await fetch(transcodeUrl)).status, { timeout: 30_000, interval: 1000 }).toBe(200);
    let holding = true;
    const keep = (async () => { while (holding) { await fetch(transcodeUrl).catch(() => {}); await new Promise((r) => setTimeout(r, 1000)); } })();
    const cam = w.cams[2];
    try {
      await page.goto(`/wall?layout=4&cameras=${cam.id}`);
      await expect.poll(() => tiles().nth(0).getAttribute('data-state'), { timeout: 30_000 }).toBe('unsupported');
      const text = await tiles().nth(0).getByTestId('tile-state').textContent();
      expect(text).toContain('无法播放 cannot play here');
      expect(text).toContain('转码名额已满');
      expect(text).toMatch(/cannot play H\.265/);
      await shot('budget-full');
    } finally {
      holding = false;
      await keep;
    }
    // the holder's transcode stops once its viewer has gone; the tile's next try takes the place
    await expect.poll(() => tiles().nth(0).getAttribute('data-state'), { timeout: 60_000, interval: 1000 }).toBe('live');
    const video = tiles().nth(0).locator('video');
    expect(await video.evaluate((v: Video) => v.dataset.via)).toBe('transcode');
    await advances(0);
    await shot('transcode');
    expect(await video.evaluate((v: Video) => `${v.videoWidth}x${v.videoHeight}`)).toBe(`${SUB.width}x${SUB.height}`);
    // what the tile plays: the sub stream's transcode, h264 by ffprobe (init + the segments the window holds)
    const session = w.ctx.ingest.manager.get(cam.id, 'sub')!;
    const t = w.ctx.ingest.transcoder.get(session)!;
    expect(t).toBeTruthy();
    const mux = t.muxer;
    const range = mux.range!;
    const segs = [];
    for (let msn = range.first; msn <= range.last; msn++) { const s = mux.getSegment(msn); if (s) segs.push(...s.parts.map((p) => p.data)); }
    const file = join(work, 'tile-transcode.mp4');
    await writeFile(file, Buffer.concat([mux.getInit(mux.currentInitId)!, ...segs]));
    const p = await run(resolveFfprobe(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
    expect(p.code, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout.toString()) as { streams: unknown[] }).streams[0]).toMatchObject({ codec_name: 'h264', width: SUB.width, height: SUB.height });
  }, 180_000);
});

let cookie: string | undefined;
async function sessionCookie(): Promise<string> {
  if (cookie) return cookie;
  const { WALL_PASSWORD } = await import('./wall-harness.js');
  const r = await fetch(`${w.httpBase}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: WALL_PASSWORD }) });
  expect(r.status).toBe(200);
  const c = (r.headers.get('set-cookie') ?? '').split(';')[0];
  cookie = c;
  return c;
}
