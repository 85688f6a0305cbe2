import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';
import type { SimCameraInfo, Simulator } from '../../simulator/index.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import { AlarmWatcher } from '../../server/alarms/alarm-watcher.js';

/**
 * Discovery and fleet-health pages in Chromium against a real server and the camera simulator: scan, watch
 * progress, add a device, see the online rate. Screenshots for a look: SCREENSHOT_DIR=/tmp/shots.
 */
let h: ConsoleHarness;
let sim: Simulator;
let cams: SimCameraInfo[];
let page: Page;
const shots = process.env.SCREENSHOT_DIR;
const shot = async (name: string) => { if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true }); };

beforeAll(async () => {
  sim = await startSmallFleet(3);
  cams = sim.cameras();
  h = await startConsole();
  h.t.ctx.fleet.recorder.start();
  page = (await h.loggedIn('technician')).page;
});

afterAll(async () => {
  await h?.t.ctx.fleet.stop();
  await h?.close();
  await sim?.stop();
});

describe('discovery and fleet pages', () => {
  it('scans the simulator, shows the devices, adds one to the inventory', async () => {
    await page.getByRole('link', { name: /设备发现/ }).click();
    await page.getByTestId('discovery-page').waitFor();
    await page.getByLabel(/主机列表/).check();
    await page.getByLabel(/Hosts/).fill('127.0.0.1');
    await page.getByLabel(/HTTP ports/).fill(new URL(cams[0].onvifUrl).port);
    await page.getByLabel(/UDP/).fill(String(sim.discoveryPort));
    await page.getByLabel(/Username/).fill(cams[0].username);
    await page.getByLabel(/Password/).fill(cams[0].password);
    await page.getByRole('button', { name: /开始扫描/ }).click();
    const rows = page.getByTestId('scan-results').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => page.getByTestId('scan-progress').innerText()).toMatch(/1\/1\s*完成 done/);
    await expect.poll(() => rows.nth(0).innerText()).toMatch(/StreetEye SimCam-2[\s\S]*320×180 H264[\s\S]*正常 ok/);
    expect(await rows.nth(1).innerText()).toMatch(/认证失败 auth failed/);
    await shot('discovery-results');

    await page.getByLabel(`选择 ${cams[0].onvifUrl}`).check();
    await page.getByLabel(`名称 ${cams[0].onvifUrl}`).fill('东门 ONVIF');
    await page.getByLabel(/District/).fill('黄浦区');
    await page.getByRole('button', { name: /加入台账/ }).click();
    await page.getByText(/已添加 1 台/).waitFor();
    await expect.poll(() => rows.nth(0).locator('a[title*="already"]').count()).toBe(1);
    const cam = await h.t.db.query<{ name: string; rtsp_main: string; district: string }>('SELECT name, rtsp_main, district FROM cameras');
    expect(cam.rows).toEqual([{ name: '东门 ONVIF', rtsp_main: cams[0].rtspMain, district: '黄浦区' }]);
    await shot('discovery-added');
  });

  it('shows the online rate, by district, flapping cameras and a camera\'s status history', async () => {
    const { rows } = await h.t.db.query<{ id: string }>('SELECT id FROM cameras');
    const id = rows[0].id;
    for (const s of ['live', 'offline', 'live', 'offline', 'live'] as const) {
      h.t.ctx.bus.publish('camera.state', { cameraId: id, stream: 'main', state: s, reason: s === 'offline' ? 'the stream ended' : null, stats: { restarts: 0, heldBytes: 0 } }, id);
      await h.t.ctx.fleet.recorder.flush();
    }
    await page.getByRole('link', { name: /设备健康/ }).first().click();
    await page.getByTestId('fleet-page').waitFor();
    await expect.poll(() => page.getByTestId('online-rate').innerText()).toMatch(/100\.0%[\s\S]*1\/1/);
    expect(await page.getByText('黄浦区').first().isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('flapping').innerText()).toMatch(/东门 ONVIF[\s\S]*4 次/);
    await page.getByTestId('fleet-cameras').getByRole('button', { name: /历史/ }).click();
    await expect.poll(() => page.getByTestId('status-history').locator('tbody tr').count()).toBe(5);
    await page.getByTestId('fleet-cameras').getByRole('button', { name: /探测/ }).click();
    await expect.poll(() => page.getByTestId('probe-result').innerText(), { timeout: 10_000 }).toMatch(/可达 reachable[\s\S]*StreetEye SimCam-2/);
    await shot('fleet');
  });

  it('lists the camera\'s own tamper alarm as it is raised, acknowledges it, and drops it when cleared', async () => {
    const watcher = new AlarmWatcher({ ...h.t.ctx, cameras: h.t.cameras }, { backoffMs: [200, 500] });
    watcher.start();
    try {
      await expect.poll(() => watcher.status().filter((x) => x.state === 'subscribed').length, { timeout: 20_000 }).toBe(1);
      const alarms = page.getByTestId('camera-alarms');
      expect(await alarms.locator('tr').count()).toBe(0);
      sim.setAlarm(cams[0].id, 'tamper', true);
      await expect.poll(() => alarms.innerText(), { timeout: 15_000 }).toMatch(/东门 ONVIF[\s\S]*Tampering/);
      await alarms.getByRole('button', { name: /确认 Ack/ }).click();
      await expect.poll(() => alarms.innerText()).toMatch(/已确认 technician/);
      await shot('fleet-alarms');
      sim.setAlarm(cams[0].id, 'tamper', false);
      await expect.poll(() => alarms.locator('tr').count(), { timeout: 15_000 }).toBe(0);
    } finally {
      sim.setAlarm(cams[0].id, 'tamper', false);
      await watcher.stop();
    }
  });
  it('finds the cameras with the default scan, one row per device, and marks those already in the inventory', async () => {
    // the simulator answers WS-Discovery on a port of its own, as the demo fleet does: the server is told of it
    const forget = h.t.ctx.scans.registerResponder({ host: '127.0.0.1', port: sim.discoveryPort, label: 'test fleet' });
    try {
      await page.goto('/discovery');
      await page.getByTestId('discovery-page').waitFor();
      expect(await page.getByLabel(/组播/).isChecked()).toBe(true); // the default: nothing to type
      await page.getByLabel(/Username/).fill(cams[1].username);
      await page.getByLabel(/Password/).fill(cams[1].password);
      await page.getByRole('button', { name: /开始扫描/ }).click();
      const ours = page.getByTestId('scan-results').locator(`tbody tr[data-xaddr^="${new URL(cams[0].onvifUrl).origin}/"]`);
      await expect.poll(() => ours.count(), { timeout: 20_000 }).toBe(3);
      await expect.poll(() => page.getByTestId('scan-progress').innerText(), { timeout: 20_000 }).toMatch(/完成 done|失败 failed/);
      // one row per device: three different devices behind one address, told apart by name and service path
      expect((await ours.evaluateAll((els) => els.map((e) => e.getAttribute('data-xaddr')))).sort()).toEqual(cams.map((c) => c.onvifUrl).sort());
      expect((await ours.getByTestId('device-name').allInnerTexts()).sort()).toEqual(cams.map((c) => c.name).sort());
      // the camera added earlier ("东门 ONVIF") is marked and not offered again; the others are
      const known = page.locator(`tr[data-xaddr="${cams[0].onvifUrl}"]`);
      expect(await known.getByTestId('in-inventory').innerText()).toContain('已在台账');
      expect(await known.locator('input[type=checkbox]').count()).toBe(0);
      expect(await page.locator(`tr[data-xaddr="${cams[1].onvifUrl}"] input[type=checkbox]`).isEnabled()).toBe(true);
      expect(await page.locator(`tr[data-xaddr="${cams[1].onvifUrl}"]`).innerText()).toMatch(/320×180 H264[\s\S]*160×90 H264/);
      await shot('discovery-default');
    } finally {
      forget();
    }
  });
});
