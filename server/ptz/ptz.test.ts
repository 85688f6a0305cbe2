import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator, SimCameraInfo } from '../../simulator/index.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';

// One small simulator for the file: camera 0 is a PTZ dome (ptzEvery 4), camera 1 a fixed camera.
let sim: Simulator;
let cams: SimCameraInfo[];

beforeAll(async () => {
  sim = await startSmallFleet(2);
  cams = sim.cameras();
});
afterAll(async () => {
  await sim?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(dbKinds())('PTZ control (%s)', (kind) => {
  let t: TestApp;
  let dome: string;
  let fixed: string;
  let restricted: string;
  const h = async (role: Parameters<TestApp['cookie']>[0]) => ({ cookie: await t.cookie(role) });
  const register = async (c: SimCameraInfo, extra: Record<string, unknown> = {}) => {
    const r = await t.app.inject({
      method: 'POST', url: '/api/cameras', headers: await h('admin'),
      payload: { name: `${c.name} ${Math.random()}`, rtspMain: c.rtspMain, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password, ...extra },
    });
    expect(r.statusCode, r.body).toBe(201);
    return r.json().id as string;
  };

  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    expect(cams[0].ptz).toBe(true);
    expect(cams[1].ptz).toBe(false);
    dome = await register(cams[0]);
    fixed = await register(cams[1]);
    restricted = await register(cams[0], { sharing: 'restricted' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reports a dome\'s presets and position, and says in words when a camera has no PTZ', async () => {
    const r = await t.app.inject({ url: `/api/cameras/${dome}/ptz`, headers: await h('operator') });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.available).toBe(true);
    expect(body.presets.map((p: { token: string }) => p.token)).toEqual(expect.arrayContaining(['1', '2', '3']));
    expect(body.position).toMatchObject({ pan: expect.any(Number), tilt: expect.any(Number), zoom: expect.any(Number) });
    const none = await t.app.inject({ url: `/api/cameras/${fixed}/ptz`, headers: await h('operator') });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toMatchObject({ available: false, reason: expect.stringMatching(/no PTZ/) });
    // moving a fixed camera is a conflict, not a server error
    const move = await t.app.inject({ method: 'POST', url: `/api/cameras/${fixed}/ptz/move`, headers: await h('operator'), payload: { pan: 1, tilt: 0, zoom: 0 } });
    expect(move.statusCode).toBe(409);
  });

  it('moves the dome while the operator holds the key, stops on release, and goes to presets', async () => {
    const op = await h('operator');
    const before = sim.ptz(cams[0].id)!.position.pan;
    const move = await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/move`, headers: op, payload: { pan: 1, tilt: 0, zoom: 0, timeoutMs: 5000 } });
    expect(move.statusCode, move.body).toBe(204);
    expect(sim.ptz(cams[0].id)!.moving).toBe(true);
    expect(sim.ptz(cams[0].id)!.velocity.pan).toBeGreaterThan(0);
    await sleep(400);
    const stop = await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/stop`, headers: op });
    expect(stop.statusCode).toBe(204);
    const stopped = sim.ptz(cams[0].id)!;
    expect(stopped.moving).toBe(false);
    expect(stopped.position.pan).toBeGreaterThan(before);
    await sleep(200);
    expect(sim.ptz(cams[0].id)!.position.pan).toBe(stopped.position.pan);

    const go = await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/preset`, headers: op, payload: { token: '2' } });
    expect(go.statusCode, go.body).toBe(204);
    await expect.poll(() => sim.ptz(cams[0].id)!.position.pan, { timeout: 5000 }).toBeCloseTo(-0.5, 2);
    const status = (await t.app.inject({ url: `/api/cameras/${dome}/ptz`, headers: op })).json();
    expect(status.position.pan).toBeCloseTo(-0.5, 2);
    expect(status.controller).toMatchObject({ username: 'operator', role: 'operator' });

    // the audit says who took the controls and which preset they chose
    const audit = await t.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE target_id = $1 AND action LIKE 'ptz.%' ORDER BY id`, [dome]);
    expect(audit.rows.map((r) => r.action)).toEqual(['ptz.control', 'ptz.preset']);
  });

  it('lets one user steer at a time: another operator waits, the police take over, the holder hands back', async () => {
    const op = await h('operator');
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/stop`, headers: op })).statusCode).toBe(204);
    const made = await t.app.inject({ method: 'POST', url: '/api/users', headers: await h('admin'), payload: { username: 'operator2', password: 'operator2-password', role: 'operator' } });
    expect(made.statusCode, made.body).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'operator2', password: 'operator2-password' } });
    const other = `streeteye_session=${login.cookies.find((c) => c.name === 'streeteye_session')!.value}`;
    const busy = await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/move`, headers: { cookie: other }, payload: { pan: 0, tilt: 1, zoom: 0 } });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().message).toMatch(/controlled by operator \(operator\)/);
    expect(sim.ptz(cams[0].id)!.moving).toBe(false);

    const police = await h('police110');
    const takeover = await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/move`, headers: police, payload: { pan: 0, tilt: 0.5, zoom: 0 } });
    expect(takeover.statusCode, takeover.body).toBe(204);
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/move`, headers: op, payload: { pan: 1, tilt: 0, zoom: 0 } })).statusCode).toBe(409);
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/stop`, headers: police })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/cameras/${dome}/ptz/lock`, headers: police })).statusCode).toBe(204);
    // handed back: the next operator may steer at once
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/stop`, headers: { cookie: other } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/cameras/${dome}/ptz/lock`, headers: { cookie: other } })).statusCode).toBe(204);
  });

  it('refuses bad commands in words and hides restricted cameras', async () => {
    const op = await h('operator');
    const bad = async (payload: Record<string, unknown>, path = 'move') =>
      (await t.app.inject({ method: 'POST', url: `/api/cameras/${dome}/ptz/${path}`, headers: op, payload })).statusCode;
    expect(await bad({ pan: 2, tilt: 0, zoom: 0 })).toBe(400);
    expect(await bad({ pan: 0, tilt: 0 })).toBe(400);
    expect(await bad({ pan: '1', tilt: 0, zoom: 0 })).toBe(400);
    expect(await bad({ pan: 0, tilt: 0, zoom: 0, speed: 3 })).toBe(400);
    expect(await bad({ token: '</PresetToken><x>' }, 'preset')).toBe(400); // would be written into the camera's XML
    expect(await bad({ token: '99' }, 'preset')).toBe(409);
    const hidden = await t.app.inject({ method: 'POST', url: `/api/cameras/${restricted}/ptz/move`, headers: op, payload: { pan: 1, tilt: 0, zoom: 0 } });
    expect(hidden.statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/cameras/${restricted}/ptz`, headers: await h('police110') })).json().available).toBe(true);
    expect((await t.app.inject({ url: `/api/cameras/${dome}/ptz`, headers: await h('reviewer') })).statusCode).toBe(403);
  });

  it('says when the camera does not answer', async () => {
    const gone = await t.app.inject({
      method: 'POST', url: '/api/cameras', headers: await h('admin'),
      payload: { name: `gone ${kind}`, onvifUrl: 'http://127.0.0.1:9/onvif/device_service', username: 'a', password: 'b' },
    });
    expect(gone.statusCode, gone.body).toBe(201);
    const r = await t.app.inject({ method: 'POST', url: `/api/cameras/${gone.json().id}/ptz/move`, headers: await h('operator'), payload: { pan: 1, tilt: 0, zoom: 0 } });
    expect([502, 504]).toContain(r.statusCode);
    expect(r.json().message).toMatch(/^PTZ: unreachable/);
  });
});
