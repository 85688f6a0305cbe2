import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { createCase, transitionCase, type CaseAction } from '../cases/case-service.js';

const at = (s: string) => new Date(`${s}Z`);
const FROM = '2026-11-02T00:00:00Z';
const TO = '2026-11-09T00:00:00Z';

describe.each(dbKinds())('KPIs on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    const admin = await t.cookie('admin');
    const op = (await t.db.query<{ id: string; username: string }>(`SELECT id, username FROM users WHERE username = 'operator'`)).rows[0];
    const actor = { ...op, role: 'operator' as const };
    const cam = async (name: string, district: string, status: string) => {
      const id = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name, district } })).json().id as string;
      await t.db.query('UPDATE cameras SET status = $2 WHERE id = $1', [id, status]);
      return id;
    };
    const camA = await cam('KPI A', '西湖区', 'live');
    await cam('KPI B', '上城区', 'offline');
    const file = (over: Parameters<typeof createCase>[1], due: string) => t.db.tx(async (q) => {
      const c = await createCase(q, over);
      await q.query('UPDATE cases SET due_at = $2 WHERE id = $1', [c.id, at(due)]);
      return c.id;
    });
    const step = (caseId: string, action: CaseAction, when: string, extra: { department?: string; note?: string } = {}) =>
      t.db.tx((q) => transitionCase(q, { caseId, action, actor, at: at(when), note: extra.note ?? (['handle', 'rework', 'void'].includes(action) ? 'x' : undefined), department: extra.department }));

    // case1 (AI, 西湖区): closed on time; 2 h handling.
    const c1 = await file({ source: 'ai', eventType: 'exposed_garbage', cameraId: camA, actor: op, at: at('2026-11-02T10:00:00') }, '2026-11-03T10:00:00');
    await step(c1, 'dispatch', '2026-11-02T11:00:00', { department: '一中队' });
    await step(c1, 'handle', '2026-11-02T13:00:00');
    await step(c1, 'verify', '2026-11-02T14:00:00');
    await step(c1, 'close', '2026-11-02T15:00:00');
    // case2 (manual, 西湖区): reworked, closed late; 48 h from dispatch to final handling.
    const c2 = await file({ source: 'manual', eventType: 'exposed_garbage', district: '西湖区', actor: op, at: at('2026-11-03T09:00:00') }, '2026-11-04T09:00:00');
    await step(c2, 'dispatch', '2026-11-03T10:00:00', { department: '一中队' });
    await step(c2, 'handle', '2026-11-03T14:00:00');
    await step(c2, 'verify', '2026-11-03T14:30:00');
    await step(c2, 'rework', '2026-11-03T15:00:00');
    await step(c2, 'handle', '2026-11-05T10:00:00');
    await step(c2, 'verify', '2026-11-05T11:00:00');
    await step(c2, 'close', '2026-11-05T12:00:00');
    // case3 (manual, 上城区): dispatched, overdue, still open.
    const c3 = await file({ source: 'manual', eventType: 'illegal_motor_parking', district: '上城区', actor: op, at: at('2026-11-04T09:00:00') }, '2026-11-05T09:00:00');
    await step(c3, 'dispatch', '2026-11-04T10:00:00', { department: '二中队' });
    // case4 (manual, 上城区): due after the period, not dispatched.
    await file({ source: 'manual', eventType: 'illegal_motor_parking', district: '上城区', actor: op, at: at('2026-11-06T09:00:00') }, '2026-11-20T09:00:00');
    // case5 (manual, 西湖区): voided.
    const c5 = await file({ source: 'manual', eventType: 'exposed_garbage', district: '西湖区', actor: op, at: at('2026-11-06T10:00:00') }, '2026-11-07T10:00:00');
    await step(c5, 'void', '2026-11-06T11:00:00');
    // Outside the period: ignored.
    await file({ source: 'manual', eventType: 'exposed_garbage', district: '西湖区', actor: op, at: at('2026-10-01T09:00:00') }, '2026-10-02T09:00:00');
    // AI candidates on camera A: one confirmed (→ case1), one rejected, one pending (not a report).
    const ev = (status: string, reviewed: string | null, caseId: string | null) => t.db.query(
      `INSERT INTO events (camera_id, event_type, event_code, status, score, first_seen, last_seen, reviewed_at, reject_reason, case_id, created_at)
       VALUES ($1, 'exposed_garbage', '06010', $2, 0.8, $3, $3, $4, $5, $6, $3)`,
      [camA, status, at('2026-11-02T09:00:00'), reviewed ? at(reviewed) : null, status === 'rejected' ? '误检' : null, caseId]);
    await ev('confirmed', '2026-11-02T10:00:00', c1);
    await ev('rejected', '2026-11-03T10:00:00', null);
    await ev('pending', null, null);
    // A 110 incident received in the period and sent back (a report that was not filed).
    const police = await t.cookie('police110');
    await t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { cookie: police }, payload: { ticketNo: 'KPI-1', reportedAt: '2026-11-04T08:00:00Z', address: 'x', reportText: 'y', categoryCode: '0601' } });
    await t.app.inject({ method: 'POST', url: '/api/110/incidents/KPI-1/return', headers: { cookie: await t.cookie('operator') }, payload: { reason: '警务类' } });
    await t.db.query(`UPDATE incidents_110 SET received_at = $1 WHERE ticket_no = 'KPI-1'`, [at('2026-11-04T08:01:00')]);
  });
  afterAll(async () => { await t.close(); });

  const get = async (groupBy: string) => {
    const r = await t.app.inject({ url: `/api/kpi?from=${FROM}&to=${TO}&groupBy=${groupBy}`, headers: { cookie: await t.cookie('operator') } });
    expect(r.statusCode).toBe(200);
    return r.json();
  };
  const r = (numerator: number, denominator: number) => ({ numerator, denominator, value: denominator ? Math.round((numerator / denominator) * 10000) / 10000 : null });

  it('computes the totals exactly by the standards formulas', async () => {
    const { total } = await get('district');
    expect(total).toEqual({
      group: null,
      filingRate: r(5, 7), // reports: 110 ×1 (returned) + AI reviewed ×2 + manual ×4; filed: AI 1 + manual 4
      closingRate: r(2, 3), // due to close: case1, case2, case3 (case4 not yet due, case5 void)
      onTimeRate: r(1, 3),
      handlingRate: r(2, 3), // dispatched: case1, case2, case3
      reworkRate: r(1, 3),
      accurateFilingRate: r(4, 5),
      avgHandlingHours: { value: 25, count: 2 }, // (2 h + 48 h) / 2
      aiPrecision: r(1, 2),
      cameraOnlineRate: r(1, 2),
    });
  });

  it('groups by district, department and event type', async () => {
    const byDistrict = await get('district');
    const west = byDistrict.rows.find((x: { group: string }) => x.group === '西湖区');
    expect(west).toMatchObject({ filingRate: r(3, 4), closingRate: r(2, 2), onTimeRate: r(1, 2), reworkRate: r(1, 2), accurateFilingRate: r(2, 3), aiPrecision: r(1, 2), cameraOnlineRate: r(1, 1) });
    const up = byDistrict.rows.find((x: { group: string }) => x.group === '上城区');
    expect(up).toMatchObject({ filingRate: r(2, 2), closingRate: r(0, 1), handlingRate: r(0, 1), aiPrecision: r(0, 0), cameraOnlineRate: r(0, 1) });
    const byDept = await get('department');
    const d1 = byDept.rows.find((x: { group: string }) => x.group === '一中队');
    expect(d1).toMatchObject({ closingRate: r(2, 2), onTimeRate: r(1, 2), avgHandlingHours: { value: 25, count: 2 }, filingRate: null, aiPrecision: null, cameraOnlineRate: null });
    expect(byDept.rows.find((x: { group: string }) => x.group === '二中队')).toMatchObject({ closingRate: r(0, 1), handlingRate: r(0, 1) });
    const byType = await get('eventType');
    const garbage = byType.rows.find((x: { group: string }) => x.group === 'exposed_garbage');
    // reports: 110 (0601 → exposed_garbage) + AI ×2 + manual case2, case5; filed: AI 1 + case2 + case5
    expect(garbage).toMatchObject({ filingRate: r(3, 5), accurateFilingRate: r(2, 3), aiPrecision: r(1, 2), cameraOnlineRate: null });
  });

  it('exports CSV and refuses bad periods and other roles', async () => {
    const csv = await t.app.inject({ url: `/api/kpi/export?from=${FROM}&to=${TO}&groupBy=district`, headers: { cookie: await t.cookie('admin') } });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toContain('立案率');
    expect(lines.find((l) => l.startsWith('合计'))).toContain('0.7143,5,7');
    expect((await t.app.inject({ url: `/api/kpi?from=${TO}&to=${FROM}`, headers: { cookie: await t.cookie('admin') } })).statusCode).toBe(400);
    expect((await t.app.inject({ url: `/api/kpi?from=${FROM}`, headers: { cookie: await t.cookie('admin') } })).statusCode).toBe(400);
    expect((await t.app.inject({ url: `/api/kpi?from=${FROM}&to=${TO}`, headers: { cookie: await t.cookie('reviewer') } })).statusCode).toBe(403);
  });
});
