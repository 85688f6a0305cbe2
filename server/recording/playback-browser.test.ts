import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../../test/app.js';
import { launchChromium } from '../../test/browser.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import { minuteDelta } from '../../simulator/clock-strip.js';
import type { Simulator } from '../../simulator/index.js';
import { loadAndShow, preparePlayer, readFrame, seekTo } from './browser-player.js';

// A recorded simulator camera played back in Chromium by wall-clock time: the clock strip burnt into the frame on screen
// matches the requested time within one GOP (1 s), at the start and after a seek.

describe('playback in Chromium by time', () => {
  let t: TestApp;
  let sim: Simulator;
  let browser: Browser;
  let cam: string;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-rec-browser-'));
    sim = await startSmallFleet(1);
    const env = { RECORDING_SEGMENT_S: '4', RECORDING_SYNC_S: '0.5', RECORDINGS_MIN_FREE_MB: '0', RECORDINGS_DIR: dir };
    Object.assign(process.env, env);
    try {
      t = await createTestApp();
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    const c = sim.cameras()[0];
    const r = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: await t.cookie('technician') }, payload: { name: 'rec-browser', rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password } });
    cam = r.json().id;
    await t.app.inject({ method: 'PUT', url: `/api/cameras/${cam}/recording`, headers: { cookie: await t.cookie('technician') }, payload: { mode: 'continuous', stream: 'main' } });
    browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the frame of the requested time (clock strip within one GOP), also after a seek', async () => {
    const spans = async () => (await t.db.query<{ s: Date; e: Date }>(`SELECT min(start_at) AS s, max(end_at) AS e FROM recording_segments WHERE camera_id = $1 AND status = 'complete'`, [cam])).rows[0];
    await expect.poll(async () => { const s = await spans(); return s.s ? s.e.getTime() - s.s.getTime() : 0; }, { timeout: 60_000, interval: 1000 }).toBeGreaterThan(16_000);
    const { s, e } = await spans();
    const at = s.getTime() + 3400;
    const { url } = (await t.app.inject({ url: `/api/cameras/${cam}/playback?from=${at}&to=${e.getTime()}`, headers: { cookie: await t.cookie('operator') } })).json() as { url: string };
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/api/health`);
    await preparePlayer(page);
    await loadAndShow(page, base + url);
    const first = await readFrame(page);
    expect(first.stripMs, 'clock strip readable').not.toBeNull();
    expect(Math.abs(minuteDelta(first.stripMs!, at % 60_000))).toBeLessThanOrEqual(1000);

    const later = s.getTime() + 11_700;
    await seekTo(page, later);
    const second = await readFrame(page);
    expect(second.stripMs).not.toBeNull();
    expect(Math.abs(minuteDelta(second.stripMs!, later % 60_000))).toBeLessThanOrEqual(1000);
  }, 120_000);
});
