import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';

const ZONE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]];
const SPOT = { x1: 0.2, y1: 0.2, x2: 0.3, y2: 0.3 };

describe.each(dbKinds())('learning from reviews (%s)', (kind) => {
  let t: TestApp;
  let cameraId: string;
  let ruleId: string;
  const h = async (role: Parameters<TestApp['cookie']>[0]) => ({ cookie: await t.cookie(role) });
  const svc = () => t.ctx.analytics;

  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    cameraId = (await t.db.query<{ id: string }>(`INSERT INTO cameras (name, rtsp_sub) VALUES ('cam-learn', 'rtsp://127.0.0.1:9/a') RETURNING id`)).rows[0].id;
    const r = await t.app.inject({ method: 'POST', url: '/api/rules', headers: await h('technician'), payload: { cameraId, eventType: 'illegal_motor_parking', zone: ZONE, minDwellSeconds: 10 } });
    expect(r.statusCode).toBe(201);
    ruleId = r.json().id;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A pending candidate of the rule that stood `stayed` seconds at `box`. */
  async function candidate(box = SPOT, stayed = 30): Promise<string> {
    const id = randomUUID();
    const first = new Date(Date.now() - 3600_000);
    await t.db.query(`INSERT INTO events (id, rule_id, camera_id, event_type, event_code, score, label, box, first_seen, last_seen)
      VALUES ($1, $2, $3, 'illegal_motor_parking', '09009', 0.8, 'car', $4, $5, $6)`, [id, ruleId, cameraId, JSON.stringify(box), first, new Date(first.getTime() + stayed * 1000)]);
    return id;
  }
  const reject = async (id: string, reason: string) => t.app.inject({ method: 'POST', url: `/api/events/${id}/reject`, headers: await h('reviewer'), payload: { reason } });
  const regions = async () => (await t.app.inject({ method: 'GET', url: `/api/rules/${ruleId}/suppressions`, headers: await h('technician') })).json().items as Array<Record<string, unknown>>;

  it('a rejection as "permanent object" becomes a permanent region for that rule and camera, loaded into the engine', async () => {
    const r = await reject(await candidate(), 'permanent_object');
    expect(r.statusCode).toBe(200);
    expect(r.json().suppressionRegionId).toBeTruthy();
    const [region] = await regions();
    expect(region).toMatchObject({ id: r.json().suppressionRegionId, ruleId, cameraId, reason: 'permanent_object', expiresAt: null, active: true, createdBy: 'reviewer' });
    // grown a little around the rejected box
    const box = region.box as typeof SPOT;
    expect(box.x1).toBeLessThan(SPOT.x1);
    expect(box.x2).toBeGreaterThan(SPOT.x2);
    expect(svc().engine!.suppressionRegions(ruleId)).toEqual([{ box, until: null }]);
  });

  it('"licensed vendor" expires (a licence runs out), "misdetection" teaches nothing', async () => {
    // a licensed breakfast van parks there: the admin offers that reason for parking events too (reasons are data)
    const put = await t.app.inject({ method: 'PUT', url: '/api/reject-reasons/illegal_motor_parking/licensed_vendor', headers: await h('admin'), payload: { nameZh: '合规摊点/早餐车', nameEn: 'Licensed vendor' } });
    expect(put.statusCode, put.body).toBe(200);
    const lic = await reject(await candidate({ x1: 0.5, y1: 0.5, x2: 0.6, y2: 0.6 }), 'licensed_vendor');
    expect(lic.statusCode, lic.body).toBe(200);
    const region = (await regions()).find((x) => x.id === lic.json().suppressionRegionId)!;
    expect(Date.parse(region.expiresAt as string) - Date.now()).toBeGreaterThan(80 * 86_400_000);
    const mis = await reject(await candidate({ x1: 0.7, y1: 0.7, x2: 0.8, y2: 0.8 }), 'misdetection');
    expect(mis.json().suppressionRegionId).toBeNull();
    expect(await regions()).toHaveLength(2);
    expect(svc().engine!.suppressionRegions(ruleId)).toHaveLength(2);
  });

  it('regions are drawn, edited, expired and deleted on the rule (editors only, bad boxes refused, audited)', async () => {
    const post = async (role: 'technician' | 'reviewer', payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: `/api/rules/${ruleId}/suppressions`, headers: await h(role), payload });
    expect((await post('reviewer', { box: SPOT })).statusCode).toBe(403);
    const bad = await post('technician', { box: { x1: 0.5, y1: 0.5, x2: 0.4, y2: 0.6 } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().message).toMatch(/区域无效.*invalid box/);
    expect((await post('technician', { box: { x1: 0.5, y1: 0.5, x2: 1.4, y2: 0.6 } })).statusCode).toBe(400);
    const drawn = await post('technician', { box: { x1: 0.4, y1: 0.4, x2: 0.45, y2: 0.45 }, note: '邮筒 mailbox', expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect(drawn.statusCode).toBe(201);
    expect(drawn.json()).toMatchObject({ reason: 'drawn', note: '邮筒 mailbox', active: true });
    expect(svc().engine!.suppressionRegions(ruleId)).toHaveLength(3);
    const id = drawn.json().id;
    const ended = await t.app.inject({ method: 'PATCH', url: `/api/suppressions/${id}`, headers: await h('technician'), payload: { expiresAt: new Date(Date.now() - 1000).toISOString(), box: { x1: 0.4, y1: 0.4, x2: 0.5, y2: 0.5 } } });
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ active: false, box: { x2: 0.5 } });
    expect(svc().engine!.suppressionRegions(ruleId)).toHaveLength(2);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/suppressions/${id}`, headers: await h('technician') })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/suppressions/${id}`, headers: await h('technician') })).statusCode).toBe(404);
    const actions = (await t.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE action LIKE 'suppression.%' ORDER BY at`)).rows.map((r) => r.action);
    expect(actions).toEqual(['suppression.create', 'suppression.update', 'suppression.delete']);
  });

  it('suggests a region for a spot rejected again and again, and a stricter min dwell replayed over the reviewed stays', async () => {
    const spot = { x1: 0.6, y1: 0.2, x2: 0.7, y2: 0.3 };
    for (let i = 0; i < 3; i++) expect((await reject(await candidate(spot, 20 + i * 10), 'duplicate')).statusCode).toBe(200);
    for (const stayed of [250, 400]) {
      const c = await t.app.inject({ method: 'POST', url: `/api/events/${await candidate({ x1: 0.3, y1: 0.6, x2: 0.4, y2: 0.7 }, stayed)}/confirm`, headers: await h('reviewer'), payload: {} });
      expect(c.statusCode).toBe(200);
    }
    const s = await t.app.inject({ method: 'GET', url: `/api/rules/${ruleId}/suggestions`, headers: await h('reviewer') });
    expect(s.statusCode).toBe(200);
    const body = s.json();
    expect(body).toMatchObject({ confirmed: 2, rejected: 6 });
    expect(body.spots).toHaveLength(1);
    expect(body.spots[0]).toMatchObject({ rejections: 3, reasons: { duplicate: 3 } });
    const dwell = body.thresholds.find((x: { field: string }) => x.field === 'minDwellSeconds');
    expect(dwell).toMatchObject({ current: 10, suggested: 250, removesRejected: 6, rejected: 6, keepsConfirmed: 2 });
    expect(dwell.message.en).toBe('raise min dwell to 250 s: would have removed 6 of 6 rejections and kept all 2 confirmations');
  });
});
