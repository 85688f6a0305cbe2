import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { endCameraAccess, endLiveViews, recordCameraAccess } from './access-log.js';

describe.each(dbKinds())('camera sharing and access log on %s', (kind) => {
  let t: TestApp;
  let ids: string[];
  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    const admin = await t.cookie('admin');
    ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: `Share ${i}` } })).json().id);
    }
  });
  afterAll(async () => { await t.close(); });

  const bulk = async (role: 'admin' | 'police110' | 'operator' | 'technician', body: object) =>
    t.app.inject({ method: 'PATCH', url: '/api/cameras/sharing', headers: { cookie: await t.cookie(role) }, payload: body });

  it('lets police110 and admin restrict cameras in bulk, audited, and hides them from the other roles at once', async () => {
    const changed: string[] = [];
    t.ctx.bus.subscribe((m) => { if (m.topic === 'camera.changed') changed.push(m.cameraId!); });
    for (const role of ['operator', 'technician'] as const) expect((await bulk(role, { ids, sharing: 'restricted' })).statusCode).toBe(403);
    const missing = '00000000-0000-4000-8000-000000000000';
    const r = await bulk('police110', { ids: [ids[0], ids[1], ids[2], missing], sharing: 'restricted' });
    expect(r.json()).toEqual({ updated: 3, unchanged: 0, notFound: [missing] });
    expect((await bulk('admin', { ids: [ids[0]], sharing: 'restricted' })).json()).toMatchObject({ updated: 0, unchanged: 1 });
    expect(changed.sort()).toEqual([ids[0], ids[1], ids[2]].sort());
    const op = await t.cookie('operator');
    const list = await t.app.inject({ url: '/api/cameras?limit=100', headers: { cookie: op } });
    expect(list.json().items.map((c: { id: string }) => c.id)).toEqual([ids[3]]);
    expect((await t.app.inject({ url: `/api/cameras/${ids[0]}`, headers: { cookie: op } })).statusCode).toBe(404);
    const audit = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'camera.sharing' AND username = 'police110'`);
    expect(audit.rows[0].n).toBe(3);
    expect((await bulk('admin', { ids: [ids[1]], sharing: 'shared' })).json().updated).toBe(1);
    expect((await t.app.inject({ url: `/api/cameras/${ids[1]}`, headers: { cookie: op } })).statusCode).toBe(200);
    expect((await bulk('admin', { ids: [], sharing: 'shared' })).statusCode).toBe(400);
    expect((await bulk('admin', { ids: ['nope'], sharing: 'shared' })).statusCode).toBe(400);
    expect((await bulk('admin', { ids: [ids[1]], sharing: 'public' })).statusCode).toBe(400);
  });

  it('shows police who watched their cameras and when', async () => {
    const users = await t.db.query<{ id: string; username: string }>(`SELECT id, username FROM users WHERE username IN ('operator', 'police110') ORDER BY username`);
    const [operator, police] = users.rows;
    const start = new Date('2026-11-25T02:00:00Z');
    const live = await recordCameraAccess(t.db, { user: police, cameraId: ids[0], kind: 'live', startedAt: start, ip: '10.0.0.9' });
    await recordCameraAccess(t.db, { user: operator, cameraId: ids[3], kind: 'snapshot', startedAt: start, endedAt: start });
    await recordCameraAccess(t.db, { user: police, cameraId: ids[0], kind: 'evidence', startedAt: new Date('2026-11-25T03:00:00Z'), endedAt: new Date('2026-11-25T03:00:01Z') });
    await endCameraAccess(t.db, live, new Date('2026-11-25T02:10:00Z'));
    await endCameraAccess(t.db, live, new Date('2026-11-25T09:00:00Z'));
    const pol = await t.cookie('police110');
    const viewers = await t.app.inject({ url: `/api/cameras/${ids[0]}/viewers`, headers: { cookie: pol } });
    expect(viewers.json()).toMatchObject({
      total: 2,
      items: [
        { username: 'police110', kind: 'evidence', cameraName: 'Share 0' },
        { username: 'police110', kind: 'live', startedAt: start.toISOString(), endedAt: '2026-11-25T02:10:00.000Z', ip: '10.0.0.9' },
      ],
    });
    expect((await t.app.inject({ url: `/api/cameras/${ids[0]}/viewers`, headers: { cookie: await t.cookie('operator') } })).statusCode).toBe(403);
    const open = await recordCameraAccess(t.db, { user: police, cameraId: ids[0], kind: 'live', startedAt: new Date('2026-11-25T04:00:00Z') });
    expect(await endLiveViews(t.db, { cameraId: ids[0], userId: police.id, endedAt: new Date('2026-11-25T04:05:00Z') })).toBe(1);
    expect(await endLiveViews(t.db, { cameraId: ids[0], userId: police.id })).toBe(0);
    const closed = await t.db.query<{ ended_at: Date }>('SELECT ended_at FROM camera_view_log WHERE id = $1', [open]);
    expect(closed.rows[0].ended_at.toISOString()).toBe('2026-11-25T04:05:00.000Z');
    await t.db.query('DELETE FROM camera_view_log WHERE id = $1', [open]);
    const restrictedOnly = await t.app.inject({ url: '/api/camera-access?sharing=restricted&kind=live', headers: { cookie: pol } });
    expect(restrictedOnly.json().total).toBe(1);
    const all = await t.app.inject({ url: '/api/camera-access', headers: { cookie: await t.cookie('admin') } });
    expect(all.json().total).toBe(3);
  });
});
