import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator, SimCameraInfo } from '../../simulator/index.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import type { BusMessage } from '../bus.js';
import { AlarmWatcher, type CameraAlarmPayload } from './alarm-watcher.js';

let sim: Simulator;
let cams: SimCameraInfo[];

beforeAll(async () => {
  sim = await startSmallFleet(3);
  cams = sim.cameras();
});
afterAll(async () => {
  await sim?.stop();
});

describe.each(dbKinds())('camera alarms from ONVIF events (%s)', (kind) => {
  let t: TestApp;
  let watcher: AlarmWatcher;
  const ids: string[] = [];
  const pushed: BusMessage[] = [];
  const h = async (role: Parameters<TestApp['cookie']>[0]) => ({ cookie: await t.cookie(role) });
  /** expect.poll is for tests only: hooks wait with this */
  const waitUntil = async (what: string, ok: () => boolean, ms = 20_000) => {
    const until = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const list = async (role: Parameters<TestApp['cookie']>[0], query = '') =>
    (await t.app.inject({ url: `/api/alarms${query}`, headers: await h(role) })).json() as { items: Array<Record<string, unknown>>; total: number };

  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    t.ctx.bus.subscribe((m) => { if (m.topic === 'camera.alarm') pushed.push(m); });
    for (const [i, c] of cams.entries()) {
      const r = await t.app.inject({
        method: 'POST', url: '/api/cameras', headers: await h('admin'),
        payload: { name: `alarm cam ${i}`, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password, ...(i === 2 ? { sharing: 'restricted' } : {}) },
      });
      expect(r.statusCode, r.body).toBe(201);
      ids.push(r.json().id);
    }
    // a camera whose ONVIF address answers nothing: retried quietly, never in the way of the others
    await t.app.inject({ method: 'POST', url: '/api/cameras', headers: await h('admin'), payload: { name: 'alarm cam gone', onvifUrl: 'http://127.0.0.1:9/onvif/device_service' } });
    watcher = new AlarmWatcher({ ...t.ctx, cameras: t.cameras }, { backoffMs: [200, 500] });
    watcher.start();
    await waitUntil('three subscriptions', () => watcher.status().filter((s) => s.state === 'subscribed').length === 3);
    for (const c of cams) expect(sim.alarms(c.id).subscriptions).toBe(1);
  });
  afterAll(async () => {
    await watcher?.stop();
    await t?.close();
  });

  it('opens an alarm when a camera reports tampering and closes it when the camera clears it, pushed live', async () => {
    sim.setAlarm(cams[0].id, 'tamper', true);
    await expect.poll(async () => (await list('operator', '?active=true')).total, { timeout: 15_000 }).toBe(1);
    const [open] = (await list('operator', '?active=true')).items;
    expect(open).toMatchObject({ cameraId: ids[0], cameraName: 'alarm cam 0', kind: 'tamper', active: true, endedAt: null, ackedBy: null });
    expect(String(open.topic)).toMatch(/GlobalSceneChange/);
    expect(pushed.map((m) => m.payload as CameraAlarmPayload).filter((p) => p.kind === 'tamper' && p.active)).toHaveLength(1);
    expect(pushed[0].cameraId).toBe(ids[0]);

    // motion on the same camera is its own alarm
    sim.setAlarm(cams[0].id, 'motion', true);
    await expect.poll(async () => (await list('technician', `?active=true&cameraId=${ids[0]}`)).total, { timeout: 15_000 }).toBe(2);

    sim.setAlarm(cams[0].id, 'tamper', false);
    await expect.poll(async () => (await list('operator', '?active=true&kind=tamper')).total, { timeout: 15_000 }).toBe(0);
    const closed = (await list('operator', '?active=false&kind=tamper')).items[0];
    expect(closed).toMatchObject({ active: false, kind: 'tamper' });
    expect(Date.parse(String(closed.endedAt))).toBeGreaterThanOrEqual(Date.parse(String(closed.startedAt)));
    sim.setAlarm(cams[0].id, 'motion', false);
    await expect.poll(async () => (await list('operator', '?active=true')).total, { timeout: 15_000 }).toBe(0);
    expect(pushed.map((m) => (m.payload as CameraAlarmPayload).active)).toEqual([true, true, false, false]);
  });

  it('records each alarm once however the camera repeats itself, also across a resubscription', async () => {
    sim.setAlarm(cams[1].id, 'tamper', true);
    await expect.poll(async () => (await list('operator', `?active=true&cameraId=${ids[1]}`)).total, { timeout: 15_000 }).toBe(1);
    // the watcher restarts (a node restart): the new subscription starts with the present state, tamper still on
    await watcher.stop();
    watcher = new AlarmWatcher({ ...t.ctx, cameras: t.cameras }, { backoffMs: [200, 500] });
    watcher.start();
    await expect.poll(() => watcher.status().filter((s) => s.state === 'subscribed').length, { timeout: 20_000 }).toBe(3);
    await new Promise((r) => setTimeout(r, 500));
    expect((await list('operator', `?cameraId=${ids[1]}`)).total).toBe(1);
    // cleared while nobody listened: the present state on resubscribing closes it
    await watcher.stop();
    sim.setAlarm(cams[1].id, 'tamper', false);
    watcher = new AlarmWatcher({ ...t.ctx, cameras: t.cameras }, { backoffMs: [200, 500] });
    watcher.start();
    await expect.poll(async () => (await list('operator', `?active=true&cameraId=${ids[1]}`)).total, { timeout: 20_000 }).toBe(0);
  });

  it('lets operators acknowledge alarms, audited, and hides restricted cameras\' alarms', async () => {
    sim.setAlarm(cams[2].id, 'tamper', true);
    sim.setAlarm(cams[0].id, 'tamper', true);
    await expect.poll(async () => (await list('police110', '?active=true')).total, { timeout: 15_000 }).toBe(2);
    const mine = await list('operator', '?active=true');
    expect(mine.items.map((a) => a.cameraId)).toEqual([ids[0]]); // the restricted camera's alarm is not there
    const restrictedAlarm = (await list('police110', `?active=true&cameraId=${ids[2]}`)).items[0];
    expect((await t.app.inject({ method: 'POST', url: `/api/alarms/${String(restrictedAlarm.id)}/ack`, headers: await h('operator') })).statusCode).toBe(404);
    const ack = await t.app.inject({ method: 'POST', url: `/api/alarms/${String(mine.items[0].id)}/ack`, headers: await h('operator') });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({ ackedBy: 'operator', active: true });
    expect(ack.json().ackedAt).toBeTruthy();
    const audit = await t.db.query(`SELECT 1 FROM audit_log WHERE action = 'alarm.ack' AND target_id = $1`, [ids[0]]);
    expect(audit.rowCount).toBe(1);
    expect((await t.app.inject({ url: '/api/alarms', headers: await h('reviewer') })).statusCode).toBe(403);
    expect((await t.app.inject({ url: '/api/alarms?kind=fire', headers: await h('operator') })).statusCode).toBe(400);
    sim.setAlarm(cams[2].id, 'tamper', false);
    sim.setAlarm(cams[0].id, 'tamper', false);
  });

  it('stops listening to a camera that loses its ONVIF address or is deleted', async () => {
    const before = sim.alarms(cams[0].id).subscriptions;
    expect(before).toBe(1);
    await t.app.inject({ method: 'DELETE', url: `/api/cameras/${ids[0]}`, headers: await h('admin') });
    await expect.poll(() => sim.alarms(cams[0].id).subscriptions, { timeout: 15_000 }).toBe(0);
    expect(watcher.status().some((s) => s.cameraId === ids[0])).toBe(false);
  });
});
