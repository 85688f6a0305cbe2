import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { testCacheDir } from '../../simulator/test-helpers.js';
import { fixtureMedia, modelsDir, silentLogger, VAN_BOX } from '../../analytics/test-helpers.js';
import { until } from '../../server/outbox/receiver.test-helper.js';

/**
 * The rule editor as a technician uses it, end to end on real parts: the simulator plays the street clip over RTSP,
 * the editor shows the camera's own snapshot behind the zone, the technician draws a zone around the parked van
 * with the mouse and saves, and the analytics engine (YOLOX-nano on the ingest frame tap) raises a candidate for the
 * van inside that zone.
 */
/** Screenshots for a look: SCREENSHOT_DIR=/tmp/shots */
const shots = process.env.SCREENSHOT_DIR;
let sim: Simulator;
let h: ConsoleHarness;
let cameraId: string;

// where the van stands in the clip (768x576 reference frame), normalised, with a margin the technician would leave
const van = { x1: VAN_BOX.x1 / 768, y1: VAN_BOX.y1 / 576, x2: VAN_BOX.x2 / 768, y2: VAN_BOX.y2 / 576 };
const zone: Array<[number, number]> = [[0.83, 0.06], [0.96, 0.06], [0.96, 0.22], [0.83, 0.22]];

describe('rule editor in Chromium: a zone drawn on the real snapshot catches the parked van', () => {
  beforeAll(async () => {
    process.env.MODELS_DIR = modelsDir;
    process.env.ANALYTICS_CONFIG = JSON.stringify({ sampling: { mode: 'fps', fps: 2 }, graceSeconds: 10, motionGate: { maxSkipSeconds: 5 } });
    // the clip's 4:3 aspect on both streams: scaled, not cropped, so the van stays where the labels say
    sim = await startSimulator({
      cameras: 1, source: join(fixtureMedia, 'street-pedestrians-30s.mp4'), dataDir: testCacheDir, fps: 10,
      mainSize: { width: 384, height: 288 }, subSize: { width: 384, height: 288 }, labelledCameras: 1, discoveryMulticast: false, logger: silentLogger,
    });
    h = await startConsole();
    const c = sim.cameras()[0];
    const res = await h.t.app.inject({
      method: 'POST', url: '/api/cameras', headers: { cookie: await h.t.cookie('admin') },
      payload: { name: '延安路 街景 street cam', rtspMain: c.rtspMain, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password, gridCode: '33010200100101', address: '延安路 88 号' },
    });
    expect(res.statusCode, res.body).toBe(201);
    cameraId = res.json().id;
    await until(() => h.t.ctx.analytics.state !== 'starting', 'the model warm-up', 1200, 50);
    expect(h.t.ctx.analytics.state).toBe('ready');
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await sim?.stop();
    delete process.env.MODELS_DIR;
    delete process.env.ANALYTICS_CONFIG;
  });

  it('technician draws the zone over the snapshot, saves, and the engine raises the van in it', async () => {
    const { page, context } = await h.loggedIn('technician');
    try {
      await page.goto('/rules');
      await page.getByRole('button', { name: '新建规则 New rule' }).click();
      const form = page.getByRole('form', { name: '规则 Rule' });
      await form.getByLabel(/点位/).selectOption({ label: '延安路 街景 street cam' });
      await form.getByLabel(/事件类型/).selectOption('illegal_motor_parking');

      // the camera's picture is behind the zone: a real decoded image, not a placeholder
      const snapshot = page.getByTestId('zone-snapshot');
      await expect.poll(() => snapshot.evaluate((el) => { const i = el as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number }; return i.complete ? i.naturalWidth * i.naturalHeight : 0; }), { timeout: 60_000 }).toBeGreaterThan(0);
      await expect.poll(() => page.getByTestId('zone-editor').getAttribute('data-picture')).toBe('shown');
      const natural = await snapshot.evaluate((el) => { const i = el as unknown as { naturalWidth: number; naturalHeight: number }; return [i.naturalWidth, i.naturalHeight]; });
      expect(natural[0] / natural[1]).toBeCloseTo(4 / 3, 1);

      // draw around the van's spot with the mouse, on the picture
      const box = (await page.getByLabel('区域 Zone').boundingBox())!;
      const img = (await snapshot.boundingBox())!;
      expect(Math.abs(box.width - img.width)).toBeLessThan(2);
      expect(Math.abs(box.height - img.height)).toBeLessThan(2);
      for (const [x, y] of zone) await page.mouse.click(box.x + box.width * x, box.y + box.height * y);
      await expect.poll(() => page.getByTestId('zone-handle').count()).toBe(4);
      // the handles are small dots on screen, whatever the picture's aspect
      const handle = (await page.getByTestId('zone-handle').first().boundingBox())!;
      expect(handle.width).toBeLessThan(20);
      expect(Math.abs(handle.width - handle.height)).toBeLessThan(1);
      if (shots) await page.screenshot({ path: join(shots, 'rule-editor-zone.png') });

      // the van stands still for the clip's 30 s: a short dwell; the small car half hidden behind it is left out
      await form.getByLabel(/最低置信度/).fill('0.5');
      await form.getByLabel(/最小面积/).fill('0.004');
      await form.getByLabel(/最短停留/).fill('3');
      await form.getByLabel(/冷却/).fill('300');
      await form.getByRole('button', { name: '保存 Save' }).click();
      await page.getByText(/已保存 Saved/).waitFor({ timeout: 30_000 });

      const rule = (await h.t.db.query<{ id: string; zone: Array<[number, number]> }>('SELECT id, zone FROM rules WHERE camera_id = $1', [cameraId])).rows;
      expect(rule).toHaveLength(1);
      rule[0].zone.forEach(([x, y], i) => { expect(x).toBeCloseTo(zone[i][0], 2); expect(y).toBeCloseTo(zone[i][1], 2); });

      // the engine raises the van, inside the zone the technician drew
      const ev = (await until(async () => (await h.t.db.query<{ event_code: string; box: { x1: number; y1: number; x2: number; y2: number }; rule_id: string }>(
        `SELECT event_code, box, rule_id FROM events WHERE camera_id = $1`, [cameraId])).rows[0], 'a candidate for the van', 1800, 50))!;
      expect(ev.rule_id).toBe(rule[0].id);
      expect(ev.event_code).toBe('09009');
      const cx = (ev.box.x1 + ev.box.x2) / 2;
      const cy = (ev.box.y1 + ev.box.y2) / 2;
      expect(cx).toBeGreaterThan(zone[0][0]);
      expect(cx).toBeLessThan(zone[1][0]);
      expect(cy).toBeGreaterThan(zone[0][1]);
      expect(cy).toBeLessThan(zone[2][1]);
      // and it is the van (its box overlaps the labelled one)
      const ix = Math.max(0, Math.min(ev.box.x2, van.x2) - Math.max(ev.box.x1, van.x1));
      const iy = Math.max(0, Math.min(ev.box.y2, van.y2) - Math.max(ev.box.y1, van.y1));
      expect(ix * iy).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  }, 240_000);
});
