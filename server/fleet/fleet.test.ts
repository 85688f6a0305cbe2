import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import type { FleetHealth } from './service.js';
import type { CameraState } from '../../ingest/camera-session.js';

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe.each(dbKinds())('fleet health on %s', (kind) => {
  let t: TestApp;
  let fleet: FleetHealth;
  let admin: string;
  let tech: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    admin = await t.cookie('admin');
    tech = await t.cookie('technician');
    fleet = t.ctx.fleet;
    fleet.recorder.start(); // the periodic checker stays off: tests drive probes themselves
    const mk = async (key: string, over: Record<string, unknown>) => {
      ids[key] = (await t.cameras.insert(t.db, { name: `Fleet ${key}`, ...over })).id;
    };
    await mk('a', { district: '西湖区', owner: 'PSB' });
    await mk('b', { district: '西湖区', owner: 'Urban' });
    await mk('c', { district: '上城区', owner: 'PSB' });
    await mk('d', { district: '上城区', owner: 'Urban' });
    await mk('r', { district: '西湖区', owner: 'PSB', sharing: 'restricted' });
  });
  afterAll(async () => { await fleet?.stop(); await t.close(); });

  const state = (cameraId: string, stream: 'main' | 'sub', s: CameraState, reason: string | null = null) =>
    t.ctx.bus.publish('camera.state', { cameraId, stream, state: s, reason, stats: { restarts: 0, heldBytes: 0 } }, cameraId);
  const history = async (id: string, cookie = tech) => (await t.app.inject({ url: `/api/cameras/${id}/status-history`, headers: { cookie } })).json();
  const summary = async (cookie: string, q = '') => {
    const res = await t.app.inject({ url: `/api/fleet/summary${q}`, headers: { cookie } });
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('records camera.state changes as history and camera status, ignoring repeated stats', async () => {
    state(ids.a, 'main', 'connecting');
    state(ids.a, 'main', 'live');
    state(ids.a, 'main', 'live'); // periodic stats re-publish: not history
    state(ids.a, 'sub', 'live');
    state(ids.b, 'main', 'connecting');
    state(ids.b, 'main', 'offline', 'connection refused by 10.0.0.9:554');
    state(ids.r, 'main', 'live');
    state('not-a-uuid', 'main', 'live'); // malformed: ignored
    // another node's ingest, via the PostgreSQL bus bridge: that node's recorder writes it, not this one
    t.ctx.bus.deliver({ topic: 'camera.state', cameraId: ids.c, payload: { cameraId: ids.c, stream: 'main', state: 'live', reason: null, stats: { restarts: 0, heldBytes: 0 } }, origin: 'node-2' });
    await fleet.recorder.flush();

    const h = await history(ids.a);
    expect(h.total).toBe(3);
    expect(h.items.map((i: { stream: string; status: string }) => `${i.stream}:${i.status}`).sort()).toEqual(['main:connecting', 'main:live', 'sub:live']);
    const a = (await t.app.inject({ url: `/api/cameras/${ids.a}`, headers: { cookie: tech } })).json();
    expect(a).toMatchObject({ status: 'live', statusReason: null });
    expect(a.lastSeenAt).toBeTruthy();
    const b = (await t.app.inject({ url: `/api/cameras/${ids.b}`, headers: { cookie: tech } })).json();
    expect(b).toMatchObject({ status: 'offline', statusReason: 'connection refused by 10.0.0.9:554' });
    // restricted camera: its history is not the technician's to see
    expect((await t.app.inject({ url: `/api/cameras/${ids.r}/status-history`, headers: { cookie: tech } })).statusCode).toBe(404);
    expect((await history(ids.r, admin)).total).toBe(1);
    expect((await history(ids.c)).total).toBe(0);
    // paging and time window
    const page = (await t.app.inject({ url: `/api/cameras/${ids.a}/status-history?limit=1&offset=1`, headers: { cookie: tech } })).json();
    expect(page.items).toHaveLength(1);
    expect(page.total).toBe(3);
    const future = (await t.app.inject({ url: `/api/cameras/${ids.a}/status-history?from=2099-01-01T00:00:00Z`, headers: { cookie: tech } })).json();
    expect(future).toEqual({ items: [], total: 0 });
  });

  it('a camera whose sessions stop cleanly after being live stays online as reachable', async () => {
    state(ids.a, 'main', 'idle');
    state(ids.a, 'sub', 'idle');
    await fleet.recorder.flush();
    const a = (await t.app.inject({ url: `/api/cameras/${ids.a}`, headers: { cookie: tech } })).json();
    expect(a.status).toBe('reachable');
    expect(fleet.recorder.hasActiveSession(ids.a)).toBe(false);
  });

  it('records probes (reachability, clock drift) and counts idle-but-reachable cameras as online', async () => {
    await fleet.recorder.recordProbe(ids.c, { method: 'onvif', reachable: true, error: null, clockDriftMs: 93_000, rttMs: 4, device: null });
    await fleet.recorder.recordProbe(ids.c, { method: 'onvif', reachable: true, error: null, clockDriftMs: 93_000, rttMs: 5, device: null }); // same verdict: no new history row
    expect((await history(ids.c)).total).toBe(1);
    // an ingest session speaks for camera b: a probe must not overwrite its status
    await fleet.recorder.recordProbe(ids.b, { method: 'rtsp', reachable: true, error: null, clockDriftMs: null, rttMs: 3 });
    expect((await t.app.inject({ url: `/api/cameras/${ids.b}`, headers: { cookie: tech } })).json().status).toBe('offline');
  });

  it('summarises the online rate overall, by district and owner, counting restricted cameras only for roles that see them', async () => {
    // a: reachable, b: offline, c: reachable, d: unknown, r (restricted): live
    const s = await summary(tech);
    expect(s).toMatchObject({ total: 4, online: 2, onlineRate: 0.5 });
    expect(s.byStatus).toEqual({ reachable: 2, offline: 1, unknown: 1 });
    expect(s.byDistrict).toEqual([
      { district: '上城区', total: 2, online: 1, onlineRate: 0.5 },
      { district: '西湖区', total: 2, online: 1, onlineRate: 0.5 },
    ]);
    expect(s.byOwner).toEqual([
      { owner: 'PSB', total: 2, online: 2, onlineRate: 1 },
      { owner: 'Urban', total: 2, online: 0, onlineRate: 0 },
    ]);
    expect(s.clockDrift).toEqual([expect.objectContaining({ cameraId: ids.c, clockDriftMs: 93_000 })]);
    expect(s.definition.online).toEqual(['live', 'reachable']);

    const all = await summary(admin);
    expect(all).toMatchObject({ total: 5, online: 3, onlineRate: 0.6 });
    expect(all.byDistrict.find((d: { district: string }) => d.district === '西湖区')).toMatchObject({ total: 3, online: 2 });
    expect(all.byStatus.live).toBe(1);

    const list = (await t.app.inject({ url: '/api/fleet/cameras?online=false', headers: { cookie: tech } })).json();
    expect(list.items.map((c: { name: string }) => c.name).sort()).toEqual(['Fleet b', 'Fleet d']);
    const c = (await t.app.inject({ url: '/api/fleet/cameras?q=fleet%20c', headers: { cookie: tech } })).json();
    expect(c.items[0]).toMatchObject({ status: 'reachable', online: true, health: { method: 'onvif', reachable: true, clockDriftMs: 93_000 } });
    expect((await t.app.inject({ url: '/api/fleet/summary', headers: { cookie: await t.cookie('reviewer') } })).statusCode).toBe(403);
  });

  it('flags flapping cameras (≥ N online/offline transitions in the window), not for roles that may not see them', async () => {
    for (const s of ['live', 'reconnecting', 'live', 'offline', 'live'] as const) {
      state(ids.d, 'main', s, s === 'live' ? null : 'stream stalled');
      state(ids.r, 'main', s === 'live' ? 'live' : 'offline', s === 'live' ? null : 'gone');
      await fleet.recorder.flush();
    }
    const s = await summary(tech, '?flapTransitions=4&flapWindowMin=60');
    expect(s.flapping).toEqual([expect.objectContaining({ cameraId: ids.d, name: 'Fleet d', transitions: 4, status: 'live' })]);
    expect((await summary(tech, '?flapTransitions=5')).flapping).toEqual([]);
    const all = await summary(admin, '?flapTransitions=4');
    expect(all.flapping.map((f: { cameraId: string }) => f.cameraId).sort()).toEqual([ids.d, ids.r].sort());
  });

  it('coalesces bursts: a stream changing state many times within one flush keeps a bounded number of rows', async () => {
    const before = (await history(ids.b)).total;
    for (let i = 0; i < 30; i++) state(ids.b, 'sub', i % 2 ? 'reconnecting' : 'connecting', `attempt ${i}`);
    await fleet.recorder.flush();
    const h = await history(ids.b);
    expect(h.total - before).toBe(8);
    expect(h.items[0].reason).toMatch(/attempt 29 \(\+22 changes coalesced\)/);
  });

  it('exposes Prometheus gauges per session state and the online ratio', async () => {
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/streeteye_camera_sessions\{state="live"\} 2/); // d main, r main
    expect(res.body).toMatch(/streeteye_camera_sessions\{state="offline"\} 1/); // b main
    expect(res.body).toMatch(/streeteye_cameras_online_ratio 0\.8/); // a, c reachable, d, r live of 5
    expect(res.body).toMatch(/streeteye_cameras\{status="offline"\} 1/);
    expect(res.body).toMatch(/streeteye_cameras_flapping 2/);
  });

  it('probes a camera on demand and says in words why it is unreachable', async () => {
    const port = await closedPort();
    const onvif = await t.cameras.insert(t.db, { name: 'Probe onvif', onvifUrl: `http://127.0.0.1:${port}/onvif/device_service`, username: 'admin', password: 'pr0be-secret' });
    const res = await t.app.inject({ method: 'POST', url: `/api/cameras/${onvif.id}/probe`, headers: { cookie: tech } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ method: 'onvif', reachable: false, status: 'offline', profiles: [] });
    expect(res.json().error).toMatch(/^unreachable: 127\.0\.0\.1:\d+ refused the connection/);
    expect(res.body).not.toContain('pr0be-secret');
    const rtsp = await t.cameras.insert(t.db, { name: 'Probe rtsp', rtspMain: `rtsp://127.0.0.1:${port}/main` });
    const r2 = (await t.app.inject({ method: 'POST', url: `/api/cameras/${rtsp.id}/probe`, headers: { cookie: tech } })).json();
    expect(r2).toMatchObject({ method: 'rtsp', reachable: false });
    expect(r2.error).toMatch(/^unreachable: .*refused the connection/);
    expect((await history(onvif.id)).items[0]).toMatchObject({ stream: 'probe', status: 'offline' });
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${rtsp.id}/probe`, headers: { cookie: await t.cookie('operator') } })).statusCode).toBe(403);
    const audit = await t.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE target_id = $1`, [onvif.id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['camera.probe']);
    expect(t.logLines.join('')).not.toContain('pr0be-secret');
  });

  it('keeps a camera whose RTSP login failed out of the online count: an OPTIONS probe without credentials cannot vouch for it', async () => {
    const cam = await t.cameras.insert(t.db, { name: 'Fleet login', rtspMain: 'rtsp://127.0.0.1:9/main' });
    const online = async () => (await t.app.inject({ url: '/api/fleet/cameras?q=fleet%20login', headers: { cookie: tech } })).json().items[0];
    state(cam.id, 'main', 'auth_failed', 'RTSP 401 Unauthorized');
    await fleet.recorder.flush();
    state(cam.id, 'main', 'idle');
    await fleet.recorder.flush();
    expect(await online()).toMatchObject({ status: 'auth_failed', online: false });
    // the session is gone; the low-rate probe gets an RTSP answer (401 to OPTIONS counts as an answer)
    await fleet.recorder.recordProbe(cam.id, { method: 'rtsp', reachable: true, error: null, clockDriftMs: null, rttMs: 2 });
    expect(await online()).toMatchObject({ status: 'auth_failed', online: false });
    await t.db.query('DELETE FROM cameras WHERE id = $1', [cam.id]);
  });
});
