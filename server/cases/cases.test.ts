import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { createCase } from './case-service.js';

describe.each(dbKinds())('cases on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    await t.db.query(`INSERT INTO departments (name) VALUES ('城管中队')`);
  });
  afterAll(async () => { await t.close(); });

  const act = async (role: 'admin' | 'operator' | 'reviewer' | 'police110' | 'technician', id: string, body: object) =>
    t.app.inject({ method: 'POST', url: `/api/cases/${id}/transitions`, headers: { cookie: await t.cookie(role) }, payload: body });

  it('numbers cases uniquely under concurrency and sets the due time from the event type in working hours', async () => {
    const at = new Date('2026-11-27T08:30:00Z'); // Friday 16:30 in Shanghai
    const made = await Promise.all(Array.from({ length: 25 }, () =>
      t.db.tx((q) => createCase(q, { source: 'manual', eventType: 'exposed_garbage', actor: null, at }))));
    const numbers = made.map((c) => c.caseNo);
    expect(new Set(numbers).size).toBe(25);
    for (const n of numbers) expect(n).toMatch(/^SE20261127-\d{6}$/);
    // 暴露垃圾: 4 working hours → Monday 11:30 Shanghai.
    expect(new Date(made[0].dueAt!).toISOString()).toBe('2026-11-30T03:30:00.000Z');
    expect(made[0]).toMatchObject({ status: 'filed', eventCode: '06010', eventName: '暴露垃圾', source: 'manual' });
  });

  it('refuses an unknown event type with a 400', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/cases', headers: { cookie: await t.cookie('operator') }, payload: { eventType: 'no_such_type' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().fieldErrors).toHaveProperty('eventType');
  });

  it('walks the lifecycle with role checks, rework and history', async () => {
    const op = await t.cookie('operator');
    const created = await t.app.inject({ method: 'POST', url: '/api/cases', headers: { cookie: op }, payload: { eventType: 'illegal_motor_parking', address: '文三路', district: '西湖区' } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect((await act('reviewer', id, { action: 'dispatch', department: '城管中队' })).statusCode).toBe(403);
    expect((await act('technician', id, { action: 'dispatch', department: '城管中队' })).statusCode).toBe(403);
    expect((await act('operator', id, { action: 'dispatch' })).statusCode).toBe(400);
    expect((await act('operator', id, { action: 'close' })).statusCode).toBe(409);
    expect((await act('operator', id, { action: 'dispatch', department: '城管中队' })).json()).toMatchObject({ status: 'dispatched', department: '城管中队' });
    expect((await act('operator', id, { action: 'handle', note: '已劝离' })).json()).toMatchObject({ status: 'handled', handleResult: '已劝离' });
    expect((await act('reviewer', id, { action: 'verify' })).json().status).toBe('verified');
    const rework = await act('reviewer', id, { action: 'rework', note: '车辆仍在' });
    expect(rework.json()).toMatchObject({ status: 'dispatched', reworkCount: 1, handledAt: null });
    await act('operator', id, { action: 'handle', note: '已拖离' });
    await act('admin', id, { action: 'verify' });
    const closed = await act('operator', id, { action: 'close' });
    expect(closed.json().status).toBe('closed');
    expect(closed.json().history.map((h: { action: string }) => h.action)).toEqual(['file', 'dispatch', 'handle', 'verify', 'rework', 'handle', 'verify', 'close']);
    expect(closed.json().history[1]).toMatchObject({ actor: 'operator', fromStatus: 'filed', toStatus: 'dispatched', detail: { department: '城管中队' } });
    expect((await act('operator', id, { action: 'void', note: 'x' })).statusCode).toBe(409);
  });

  it('lists with filters and pages, and hides the camera of a case from roles that may not see it', async () => {
    const admin = await t.cookie('admin');
    const cam = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: 'Police cam for cases', sharing: 'restricted', district: '上城区' } })).json();
    const c = await t.db.tx((q) => createCase(q, { source: 'ai', sourceRef: 'evt-1', eventType: 'road_occupying_stall', cameraId: cam.id, evidence: [{ kind: 'jpeg', path: 'e/1.jpg' }], actor: null }));
    expect(c.district).toBe('上城区');
    const op = await t.cookie('operator');
    const list = await t.app.inject({ url: '/api/cases?source=ai&district=%E4%B8%8A%E5%9F%8E%E5%8C%BA&limit=5', headers: { cookie: op } });
    expect(list.json()).toMatchObject({ total: 1, items: [{ id: c.id, cameraId: null, evidence: [] }] });
    const asAdmin = await t.app.inject({ url: `/api/cases/${c.id}`, headers: { cookie: admin } });
    expect(asAdmin.json()).toMatchObject({ cameraId: cam.id, evidence: [{ kind: 'jpeg' }] });
    const paged = await t.app.inject({ url: '/api/cases?limit=2&offset=1', headers: { cookie: op } });
    expect(paged.json().items).toHaveLength(2);
    expect(paged.json().total).toBeGreaterThan(3);
    expect((await t.app.inject({ url: '/api/cases?status=bogus', headers: { cookie: op } })).statusCode).toBe(400);
    expect((await t.app.inject({ url: '/api/cases', headers: { cookie: await t.cookie('technician') } })).statusCode).toBe(403);
  });

  it('edits time limits (admin only) and new cases use them', async () => {
    const admin = await t.cookie('admin');
    expect((await t.app.inject({ method: 'PUT', url: '/api/time-limits/dirty_road', headers: { cookie: await t.cookie('operator') }, payload: { hours: 2 } })).statusCode).toBe(403);
    const put = await t.app.inject({ method: 'PUT', url: '/api/time-limits/dirty_road', headers: { cookie: admin }, payload: { hours: 1 } });
    expect(put.json()).toMatchObject({ eventType: 'dirty_road', hours: 1 });
    expect((await t.app.inject({ method: 'PUT', url: '/api/time-limits/dirty_road', headers: { cookie: admin }, payload: { hours: -1 } })).statusCode).toBe(400);
    const c = await t.db.tx((q) => createCase(q, { source: 'manual', eventType: 'dirty_road', actor: null, at: new Date('2026-11-25T01:00:00Z') }));
    expect(new Date(c.dueAt!).toISOString()).toBe('2026-11-25T02:00:00.000Z');
    const list = await t.app.inject({ url: '/api/time-limits', headers: { cookie: admin } });
    expect(list.json().items.find((x: { eventType: string }) => x.eventType === 'exposed_garbage').hours).toBe(4);
  });
});
