import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDb } from '../../test/db.js';
import type { Db } from '../../server/db/db.js';
import { startWallStack, WALL_PASSWORD, type WallStack } from './wall-harness.js';
import { DEFAULT_SETTINGS, putSettings } from '../../server/recording/recording-repo.js';
import { readFrame } from '../../server/recording/browser-player.js';
import { minuteDelta } from '../../simulator/clock-strip.js';
import { resolveFfprobe } from '../../media-tools/ffmpeg-path.js';

/**
 * The playback view of a wall tile in a real Chromium against a real node: a simulator camera recorded continuously,
 * a camera fault making a gap, a 110 incident on the camera as a marker. The tile switches to playback; its timeline
 * shows the recorded spans with the gap between them; a click on the marker plays from 10 s before it (the clock
 * strip burnt into the frame on screen says so, within one GOP); a shift-drag selection exports an MP4 that ffprobe
 * reads with the selection's duration. Nothing asserts wall-clock durations.
 */
let db: Db;
let w: WallStack;
let context: BrowserContext;
let page: Page;
let recDir: string;
let cam: string;
const ffprobe = resolveFfprobe();

interface SpanAttr { from: number; to: number; x: number; width: number }
const spans = async (): Promise<SpanAttr[]> => {
  const out: SpanAttr[] = [];
  for (const el of await page.locator('[data-testid="rec-span"]').all()) {
    const box = (await el.boundingBox())!;
    out.push({ from: Date.parse((await el.getAttribute('data-from'))!), to: Date.parse((await el.getAttribute('data-to'))!), x: box.x, width: box.width });
  }
  return out.sort((a, b) => a.from - b.from);
};
/** the page x of a wall-clock time on the timeline bar */
const xOf = async (ms: number): Promise<{ x: number; y: number }> => {
  const bar = page.locator('.rec-bar');
  const box = (await bar.boundingBox())!;
  const min = Number(await bar.getAttribute('aria-valuemin'));
  const max = Number(await bar.getAttribute('aria-valuemax'));
  return { x: box.x + ((ms - min) / (max - min)) * box.width, y: box.y + box.height / 2 };
};

describe('playback on a wall tile in Chromium', () => {
  beforeAll(async () => {
    db = await createTestDb('pglite');
    recDir = await mkdtemp(join(tmpdir(), 'streeteye-rec-e2e-'));
    w = await startWallStack({
      db, cameras: 1,
      env: { INGEST_WATCHDOG_S: '2', INGEST_CONNECT_TIMEOUT_S: '6', RECORDINGS_DIR: recDir, RECORDING_SEGMENT_S: '4', RECORDING_SYNC_S: '0.5', RECORDINGS_MIN_FREE_MB: '0' },
    });
    cam = w.cams[0].id;
    await putSettings(db, { ...DEFAULT_SETTINGS, cameraId: cam, mode: 'continuous', stream: 'sub' }, null);
    await w.ctx.recorder!.sync();
    context = await w.browser.newContext({ baseURL: w.httpBase, viewport: { width: 1440, height: 900 }, locale: 'zh-CN', acceptDownloads: true });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await w?.close();
    await db?.close();
    if (recDir) await rm(recDir, { recursive: true, force: true });
  });

  const rows = async () => (await db.query<{ start_at: Date; end_at: Date; status: string }>(
    'SELECT start_at, end_at, status FROM recording_segments WHERE camera_id = $1 ORDER BY start_at', [cam])).rows;

  it('switch a tile to playback: spans and a gap on the timeline, a marker plays from 10 s before it, a selection exports an MP4', async () => {
    // 30 s of recording, an 8 s camera fault, then 12 s more
    await expect.poll(async () => { const r = (await rows()).filter((x) => x.status === 'complete'); return r.length ? r[r.length - 1].end_at.getTime() - r[0].start_at.getTime() : 0; },
      { timeout: 90_000, interval: 1000 }).toBeGreaterThan(30_000);
    const faultAt = Date.now();
    w.sim.fault(w.cams[0].sim.id, { kind: 'offline' });
    await new Promise((r) => setTimeout(r, 8000));
    w.sim.restore(w.cams[0].sim.id);
    await expect.poll(async () => { const r = (await rows()).filter((x) => x.status === 'complete' && x.start_at.getTime() > faultAt + 4000); return r.length ? r[r.length - 1].end_at.getTime() - r[0].start_at.getTime() : 0; },
      { timeout: 90_000, interval: 1000 }).toBeGreaterThan(8_000);
    const first = (await rows())[0].start_at.getTime();

    // a 110 incident on the camera, 22 s into the recording: a marker on the timeline
    const login = await fetch(`${w.httpBase}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'police110', password: WALL_PASSWORD }) });
    const police = /streeteye_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
    const markerAt = first + 22_000;
    const inc = await fetch(`${w.httpBase}/api/110/incidents`, { method: 'POST', headers: { cookie: police, 'content-type': 'application/json' },
      body: JSON.stringify({ ticketNo: 'E2E-REC-1', reportedAt: new Date(markerAt).toISOString(), address: '文三路', reportText: '占道经营', categoryCode: '0901', cameraId: cam }) });
    expect(inc.status, await inc.text()).toBe(201);

    await w.login(page, w.httpBase, 'operator');
    await page.goto(`/wall?layout=1&cameras=${cam}`);
    const tile = page.locator('[data-testid="tile"]').first();
    await expect.poll(() => tile.getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await tile.hover();
    await page.locator('[data-testid="tile-playback"]').click();
    const view = page.locator('[data-testid="playback-view"]');
    await expect.poll(() => view.getAttribute('data-phase'), { timeout: 30_000 }).toBe('playing');
    await page.locator('select[aria-label="缩放 Zoom"]').selectOption(String(10 * 60_000));

    // the timeline: recorded spans, and a gap between them where the camera was down
    await expect.poll(async () => (await spans()).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const sp = await spans();
    const hole = sp.findIndex((s, i) => i > 0 && s.from - sp[i - 1].to > 4000);
    expect(hole, JSON.stringify(sp)).toBeGreaterThan(0);
    expect(sp[hole - 1].to).toBeLessThan(faultAt + 2000);
    expect(sp[hole].x).toBeGreaterThan(sp[hole - 1].x + sp[hole - 1].width); // the gap is visible
    expect(await page.locator('[data-testid="rec-span"][data-available="false"]').count()).toBe(0);

    // click the marker: playback from 10 s before it (pause on the first frame after the seek, read its clock strip)
    const marker = page.locator('[data-testid="rec-marker"][data-kind="incident"]');
    await expect(marker.count()).resolves.toBe(1);
    expect(Date.parse((await marker.getAttribute('data-at'))!)).toBe(markerAt);
    const video = '[data-testid="playback-video"]';
    await page.evaluate((sel) => {
      const v = (globalThis as unknown as { document: { querySelector(s: string): { addEventListener(e: string, f: () => void, o: object): void; pause(): void } } }).document.querySelector(sel)!;
      v.addEventListener('seeked', () => v.pause(), { once: true });
    }, video);
    await marker.click();
    await expect.poll(() => page.evaluate((sel) => (globalThis as unknown as { document: { querySelector(s: string): { paused: boolean } } }).document.querySelector(sel)!.paused, video), { timeout: 20_000 }).toBe(true);
    const frame = await readFrame(page, video);
    expect(frame.stripMs, 'clock strip readable').not.toBeNull();
    expect(Math.abs(minuteDelta(frame.stripMs!, (markerAt - 10_000) % 60_000))).toBeLessThanOrEqual(1000); // within one GOP
    await expect.poll(async () => Math.abs(Number(await view.getAttribute('data-position')) - (markerAt - 10_000)), { timeout: 5000 }).toBeLessThanOrEqual(1000);

    // shift-drag a selection within the first span, then "export clip": an MP4 of that range
    const a = await xOf(first + 3000);
    const b = await xOf(first + 15_000);
    await page.keyboard.down('Shift');
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const link = page.locator('[data-testid="export-clip"]');
    const href = new URL((await link.getAttribute('href'))!, w.httpBase);
    const from = Date.parse(href.searchParams.get('from')!);
    const to = Date.parse(href.searchParams.get('to')!);
    expect(Math.abs(from - (first + 3000))).toBeLessThan(2000);
    expect(Math.abs(to - (first + 15_000))).toBeLessThan(2000);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const out = join(recDir, 'clip.mp4');
    await download.saveAs(out);
    expect(download.suggestedFilename()).toMatch(/\.mp4$/);
    const probe = spawnSync(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const duration = Number(probe.stdout.trim());
    // from the keyframe at or before `from` (1 s GOP) to `to`
    expect(duration).toBeGreaterThanOrEqual((to - from) / 1000 - 0.3);
    expect(duration).toBeLessThanOrEqual((to - from) / 1000 + 1.1);
  }, 300_000);
});
