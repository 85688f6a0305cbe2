import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { verifySignature } from '../outbox/outbox.js';
import { startReceiver, until } from '../outbox/receiver.test-helper.js';

const SECRET = 'a-city-secret-of-some-length';
const ZONE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]];

describe.each(dbKinds())('analytics routes (%s)', (kind) => {
  let t: TestApp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let shared: string;
  let restricted: string;
  const h = async (role: Parameters<TestApp['cookie']>[0]) => ({ cookie: await t.cookie(role) });

  beforeAll(async () => {
    rx = await startReceiver();
    t = await createTestApp({ db: kind, env: { CITY_WEBHOOK_URL: rx.url, CITY_WEBHOOK_SECRET: SECRET }, start: ['outbox'] });
    // unreachable stream URLs: the rules' frame taps try and back off quietly
    shared = (await t.db.query<{ id: string }>(`INSERT INTO cameras (name, rtsp_sub, grid_code, address, lat, lng) VALUES ('cam-a', 'rtsp://127.0.0.1:9/a', '33010200100101', '延安路', 30.25, 120.16) RETURNING id`)).rows[0].id;
    restricted = (await t.db.query<{ id: string }>(`INSERT INTO cameras (name, rtsp_sub, sharing) VALUES ('cam-police', 'rtsp://127.0.0.1:9/b', 'restricted') RETURNING id`)).rows[0].id;
  });
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });

  async function insertEvent(cameraId: string, ruleId: string | null, at = new Date()): Promise<string> {
    const id = randomUUID();
    const svc = t.ctx.analytics;
    const rel = join('test', id);
    await mkdir(join(svc.evidenceDir, rel), { recursive: true });
    await writeFile(join(svc.evidenceDir, rel, 'annotated.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    await t.db.query(`INSERT INTO events (id, rule_id, camera_id, event_type, event_code, score, label, box, first_seen, last_seen, grid_code, address, evidence_jpeg)
      VALUES ($1, $2, $3, 'illegal_motor_parking', '09009', 0.8, 'car', '{"x1":0.1,"y1":0.1,"x2":0.2,"y2":0.2}', $4, $4, '33010200100101', '延安路', $5)`,
    [id, ruleId, cameraId, at, join(rel, 'annotated.jpg')]);
    return id;
  }

  it('reports its state, also without weights', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/api/analytics/status', headers: await h('reviewer') });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ defaultModel: 'yolox_nano' });
    expect((await t.app.inject({ method: 'GET', url: '/api/analytics/status', headers: await h('operator') })).statusCode).toBe(403);
  });

  it('refuses bad rules with field errors', async () => {
    const post = async (body: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/rules', headers: await h('technician'), payload: body });
    const base = { cameraId: shared, eventType: 'illegal_motor_parking', zone: ZONE };
    const bowtie = await post({ ...base, zone: [[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]] });
    expect(bowtie.statusCode).toBe(422);
    expect(bowtie.json().fieldErrors.zone).toMatch(/intersect/i);
    const out = await post({ ...base, zone: [[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]] });
    expect(out.statusCode).toBe(422);
    expect(Object.keys(out.json().fieldErrors).join()).toMatch(/zone/);
    const type = await post({ ...base, eventType: 'no_such_type' });
    expect(type.statusCode).toBe(422);
    expect(type.json().fieldErrors.eventType).toMatch(/unknown/);
    const cls = await post({ ...base, classes: ['unicorn'] });
    expect(cls.statusCode).toBe(422);
    expect(Object.keys(cls.json().fieldErrors).join()).toMatch(/classes/);
    expect((await post({ ...base, colour: 'red' })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/api/rules', headers: await h('reviewer'), payload: base })).statusCode).toBe(403);
    // a restricted camera is unknown to a technician
    expect((await post({ ...base, cameraId: restricted })).statusCode).toBe(422);
  });

  let ruleId: string;
  it('creates, reads, edits and deletes rules (presets fill the gaps)', async () => {
    const presets = await t.app.inject({ method: 'GET', url: '/api/rules/presets', headers: await h('technician') });
    expect(presets.json().presets.illegal_motor_parking).toBeTruthy();
    const created = await t.app.inject({ method: 'POST', url: '/api/rules', headers: await h('technician'), payload: { cameraId: shared, eventType: 'illegal_motor_parking', zone: ZONE, cooldownSeconds: 120 } });
    expect(created.statusCode).toBe(201);
    ruleId = created.json().id;
    expect(created.json()).toMatchObject({ cameraName: 'cam-a', detector: 'model', cooldownSeconds: 120 });
    expect(created.json().classes.length).toBeGreaterThan(0);
    const svc = t.ctx.analytics;
    expect(svc.rulesOf(shared).map((r) => r.id)).toEqual([ruleId]);
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/rules/${ruleId}`, headers: await h('admin'), payload: { minDwellSeconds: 90 } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().minDwellSeconds).toBe(90);
    const badPatch = await t.app.inject({ method: 'PATCH', url: `/api/rules/${ruleId}`, headers: await h('admin'), payload: { minScore: 3 } });
    expect(badPatch.statusCode).toBe(422);
    const list = await t.app.inject({ method: 'GET', url: `/api/rules?cameraId=${shared}`, headers: await h('reviewer') });
    expect(list.json().total).toBe(1);
    const temp = await t.app.inject({ method: 'POST', url: '/api/rules', headers: await h('admin'), payload: { cameraId: shared, eventType: 'exposed_garbage', zone: ZONE } });
    expect(temp.statusCode).toBe(201);
    expect(temp.json().detector).toBe('foreground');
    expect((await t.app.inject({ method: 'DELETE', url: `/api/rules/${temp.json().id}`, headers: await h('technician') })).statusCode).toBe(204);
    expect(svc.rulesOf(shared)).toHaveLength(1);
  });

  it('lists events oldest-first for the queue, hides restricted cameras, serves evidence with an audit trail', async () => {
    const older = await insertEvent(shared, ruleId, new Date(Date.now() - 60_000));
    const newer = await insertEvent(shared, ruleId);
    const hidden = await insertEvent(restricted, null);
    const q = await t.app.inject({ method: 'GET', url: '/api/events?status=pending', headers: await h('reviewer') });
    expect(q.statusCode).toBe(200);
    const ids = q.json().items.map((e: { id: string }) => e.id);
    expect(ids.indexOf(older)).toBeLessThan(ids.indexOf(newer));
    expect(ids).not.toContain(hidden);
    expect((await t.app.inject({ method: 'GET', url: `/api/events?status=pending&cameraId=${restricted}`, headers: await h('admin') })).json().total).toBe(1);
    expect((await t.app.inject({ method: 'GET', url: `/api/events/${hidden}/evidence/annotated`, headers: await h('reviewer') })).statusCode).toBe(404);
    const ev = await t.app.inject({ method: 'GET', url: `/api/events/${older}/evidence/annotated`, headers: await h('reviewer') });
    expect(ev.statusCode).toBe(200);
    expect(ev.headers['content-type']).toBe('image/jpeg');
    expect((await t.app.inject({ method: 'GET', url: `/api/events/${older}/evidence/clip`, headers: await h('reviewer') })).statusCode).toBe(404);
    const log = await t.db.query(`SELECT kind FROM camera_view_log WHERE camera_id = $1 AND username = 'reviewer'`, [shared]);
    expect(log.rows).toContainEqual({ kind: 'evidence' });
    const one = await t.app.inject({ method: 'GET', url: `/api/events/${older}`, headers: await h('reviewer') });
    expect(one.json()).toMatchObject({ eventCode: '09009', cameraName: 'cam-a', evidence: { annotated: true, clip: false } });
  });

  it('confirm files a case in the same transaction and hands it to the city platform', async () => {
    const id = await insertEvent(shared, ruleId);
    const r = await t.app.inject({ method: 'POST', url: `/api/events/${id}/confirm`, headers: await h('reviewer'), payload: { description: '人行道上停车' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'confirmed', reviewedBy: 'reviewer' });
    const caseNo = r.json().caseNo as string;
    const c = await t.db.query<{ source: string; event_code: string; camera_id: string }>('SELECT source, event_code, camera_id FROM cases WHERE case_no = $1', [caseNo]);
    expect(c.rows[0]).toMatchObject({ source: 'ai', event_code: '09009', camera_id: shared });
    const got = (await until(() => rx.received.find((x) => JSON.parse(x.body).data.caseNo === caseNo), 'the city hand-off'))!;
    expect(verifySignature(SECRET, got.body, got.headers['x-streeteye-signature'] as string)).toBe(true);
    expect(JSON.parse(got.body).data).toMatchObject({ source: 'ai', eventCode: '09009', description: '人行道上停车' });
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${id}/confirm`, headers: await h('reviewer'), payload: {} })).statusCode).toBe(409);
    // a corrected event type files the case under that type
    const id2 = await insertEvent(shared, ruleId);
    const r2 = await t.app.inject({ method: 'POST', url: `/api/events/${id2}/confirm`, headers: await h('admin'), payload: { eventType: 'fire_lane_blocked' } });
    expect(r2.statusCode).toBe(200);
    expect((await t.db.query('SELECT event_code FROM cases WHERE case_no = $1', [r2.json().caseNo])).rows[0]).toEqual({ event_code: '09012' });
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${id2}/confirm`, headers: await h('technician'), payload: {} })).statusCode).toBe(403);
  });

  it('reject records the reason and suppresses the rule for its cooldown', async () => {
    const svc = t.ctx.analytics;
    const spy = vi.spyOn(svc.engine!, 'suppress');
    const id = await insertEvent(shared, ruleId);
    const bad = await t.app.inject({ method: 'POST', url: `/api/events/${id}/reject`, headers: await h('reviewer'), payload: { reason: 'other' } });
    expect(bad.statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${id}/reject`, headers: await h('reviewer'), payload: { reason: 'because' } })).statusCode).toBe(400);
    const r = await t.app.inject({ method: 'POST', url: `/api/events/${id}/reject`, headers: await h('reviewer'), payload: { reason: 'misdetection' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'rejected', rejectReason: 'misdetection' });
    expect(spy).toHaveBeenCalledTimes(1);
    const [rule, untilTs] = spy.mock.calls[0];
    expect(rule).toBe(ruleId);
    expect(untilTs).toBeGreaterThan(Date.now() + 110_000);
    expect(untilTs).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it('precision per rule and camera flags weak rules; the classification is editable by admins', async () => {
    for (let i = 0; i < 5; i++) {
      const id = await insertEvent(shared, ruleId);
      await t.app.inject({ method: 'POST', url: `/api/events/${id}/reject`, headers: await h('reviewer'), payload: { reason: 'duplicate' } });
    }
    const p = await t.app.inject({ method: 'GET', url: '/api/analytics/precision', headers: await h('technician') });
    expect(p.statusCode).toBe(200);
    const rule = p.json().rules.find((r: { ruleId: string }) => r.ruleId === ruleId);
    expect(rule).toMatchObject({ confirmed: 2, rejected: 6, flagged: true });
    expect(rule.precision).toBeCloseTo(0.25);
    expect(p.json().types.find((x: { eventType: string }) => x.eventType === 'illegal_motor_parking').total).toBeGreaterThan(5);

    const types = await t.app.inject({ method: 'GET', url: '/api/event-types', headers: await h('operator') });
    expect(types.json().find((x: { key: string }) => x.key === 'bin_overflow').code).toBe('06042');
    expect((await t.app.inject({ method: 'PATCH', url: '/api/event-types/bin_overflow', headers: await h('technician'), payload: { code: '06043' } })).statusCode).toBe(403);
    const e = await t.app.inject({ method: 'PATCH', url: '/api/event-types/bin_overflow', headers: await h('admin'), payload: { timeLimitHours: 6 } });
    expect(e.statusCode).toBe(200);
    expect(e.json().timeLimitHours).toBe(6);
  });
});
