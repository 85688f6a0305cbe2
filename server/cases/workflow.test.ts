import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { sign } from '../outbox/outbox.js';

/**
 * The case workflow the console drives: departments as data, the side paths (feedback, extension with approval,
 * send back, park/resume), list filters and counts, the case page's actions and hand-offs, the city platform's
 * signed, idempotent status updates, the audit trail and a user's own password change.
 */
describe('case workflow, city updates, audit (pglite)', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  const as = async (role: 'admin' | 'operator' | 'reviewer' | 'police110' | 'technician') => ({ cookie: await t.cookie(role) });
  const act = async (role: 'admin' | 'operator' | 'reviewer', id: string, body: object) =>
    t.app.inject({ method: 'POST', url: `/api/cases/${id}/transitions`, headers: await as(role), payload: body });
  const file = async (body: object = {}) => (await t.app.inject({ method: 'POST', url: '/api/cases', headers: await as('operator'), payload: { eventType: 'exposed_garbage', address: '文三路 8 号', district: '西湖区', ...body } })).json();

  it('keeps departments as admin-edited data and dispatches only to an enabled one', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/departments', headers: await as('operator'), payload: { name: '环卫一所' } })).statusCode).toBe(403);
    const made = await t.app.inject({ method: 'POST', url: '/api/departments', headers: await as('admin'), payload: { name: '环卫一所', contact: '王科长', phone: '0571-8888 1234' } });
    expect(made.statusCode).toBe(201);
    const dup = await t.app.inject({ method: 'POST', url: '/api/departments', headers: await as('admin'), payload: { name: '环卫一所' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().message).toContain('已有');
    await t.app.inject({ method: 'POST', url: '/api/departments', headers: await as('admin'), payload: { name: '旧部门', enabled: false } });
    const list = await t.app.inject({ url: '/api/departments', headers: await as('operator') });
    expect(list.json().items.map((d: { name: string }) => d.name)).toEqual(['环卫一所', '旧部门']);
    const c = await file();
    const bad = await act('operator', c.id, { action: 'dispatch', department: '旧部门' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fieldErrors.department).toMatch(/部门/);
    expect((await act('operator', c.id, { action: 'dispatch', department: '环卫一所' })).json()).toMatchObject({ status: 'dispatched', department: '环卫一所' });
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/departments/${made.json().id}`, headers: await as('admin'), payload: { phone: '110' } });
    expect(patched.json()).toMatchObject({ phone: '110', openCases: 1 });
  });

  it('walks feedback, extension with approval, send back, park and resume; the page lists the allowed actions', async () => {
    const c = await file();
    let page = (await t.app.inject({ url: `/api/cases/${c.id}`, headers: await as('operator') })).json();
    expect(page.actions.map((a: { action: string }) => a.action)).toEqual(['dispatch', 'extend', 'park', 'void']);
    expect(page.actions.find((a: { action: string }) => a.action === 'extend').needs).toEqual(['hours', 'note']);
    const reviewerView = (await t.app.inject({ url: `/api/cases/${c.id}`, headers: await as('reviewer') })).json();
    expect(reviewerView.actions).toEqual([]);
    expect(page.handoffs).toEqual([expect.objectContaining({ topic: 'case.filed', destination: 'city', state: 'pending' })]);

    await act('operator', c.id, { action: 'dispatch', department: '环卫一所' });
    const back = await act('operator', c.id, { action: 'send_back', note: '不属本部门' });
    expect(back.json()).toMatchObject({ status: 'filed', department: null });
    await act('operator', c.id, { action: 'dispatch', department: '环卫一所' });
    expect((await act('operator', c.id, { action: 'feedback' })).statusCode).toBe(400);
    expect((await act('operator', c.id, { action: 'feedback', note: '已到场，正在清运' })).json().status).toBe('dispatched');

    expect((await act('operator', c.id, { action: 'extend', note: '需要机械' })).json().fieldErrors).toHaveProperty('hours');
    const asked = await act('operator', c.id, { action: 'extend', hours: 7.5, note: '需要调机械' });
    expect(asked.json().extension).toMatchObject({ hours: 7.5, reason: '需要调机械', requestedBy: 'operator' });
    expect((await act('operator', c.id, { action: 'extend', hours: 2, note: '再延' })).statusCode).toBe(409);
    expect((await act('operator', c.id, { action: 'approve_extension' })).statusCode).toBe(403);
    const dueBefore = new Date(asked.json().dueAt).getTime();
    const approved = (await act('admin', c.id, { action: 'approve_extension' })).json();
    expect(approved.extension).toBeNull();
    expect(approved.extensionCount).toBe(1);
    expect(new Date(approved.dueAt).getTime()).toBeGreaterThan(dueBefore + 7 * 3600_000); // 7.5 working hours = one working day

    const parked = (await act('operator', c.id, { action: 'park', note: '等待产权单位' })).json();
    expect(parked).toMatchObject({ status: 'parked', parkedFrom: 'dispatched', overdue: false });
    expect(parked.actions.map((a: { action: string }) => a.action)).toEqual(['resume', 'void']);
    expect((await act('operator', c.id, { action: 'resume' })).json().status).toBe('dispatched');
    await act('operator', c.id, { action: 'handle', note: '已清运' });
    await act('reviewer', c.id, { action: 'verify' });
    const closed = (await act('operator', c.id, { action: 'close' })).json();
    expect(closed.status).toBe('closed');
    expect(closed.history.map((h: { action: string }) => h.action)).toEqual(
      ['file', 'dispatch', 'send_back', 'dispatch', 'feedback', 'extend', 'approve_extension', 'park', 'resume', 'handle', 'verify', 'close']);
    expect(closed.history[6]).toMatchObject({ actor: 'admin', detail: { hours: 7.5 } });
    // every transition is handed to the city platform
    expect(closed.handoffs.filter((h: { topic: string }) => h.topic === 'case.updated')).toHaveLength(11);
  });

  it('filters by overdue, department and street, sorts by due time and counts per status', async () => {
    const late = await file({ address: '逾期路' });
    await t.db.query(`UPDATE cases SET due_at = now() - interval '1 hour' WHERE id = $1`, [late.id]);
    const soon = await file({ address: '将到期路' });
    await t.db.query(`UPDATE cases SET due_at = now() + interval '10 minutes' WHERE id = $1`, [soon.id]);
    const overdue = (await t.app.inject({ url: '/api/cases?overdue=true', headers: await as('operator') })).json();
    expect(overdue.items.map((c: { id: string }) => c.id)).toEqual([late.id]);
    expect(overdue.items[0].overdue).toBe(true);
    const byDue = (await t.app.inject({ url: '/api/cases?sort=due&status=filed', headers: await as('operator') })).json();
    expect(byDue.items[0].id).toBe(late.id);
    expect(byDue.items[1].id).toBe(soon.id);
    expect(byDue.counts).toMatchObject({ filed: byDue.total, closed: 1 });
    const dept = (await t.app.inject({ url: `/api/cases?department=${encodeURIComponent('环卫一所')}`, headers: await as('operator') })).json();
    expect(dept.total).toBe(2);
    expect((await t.app.inject({ url: '/api/cases?overdue=maybe', headers: await as('operator') })).statusCode).toBe(400);
  });

  it('takes signed, idempotent status updates from the city platform with a city key, and audits them', async () => {
    const c = await file({ address: '城市平台路' });
    const issued = await t.app.inject({ method: 'POST', url: '/api/api-keys', headers: await as('admin'), payload: { name: '城运平台', scopes: ['city'] } });
    const { key, callbackSecret } = issued.json();
    expect(callbackSecret).toEqual(expect.any(String));
    const only110 = (await t.app.inject({ method: 'POST', url: '/api/api-keys', headers: await as('admin'), payload: { name: '110 系统', scopes: ['110'] } })).json();
    const post = (body: object, headers: Record<string, string>) => t.app.inject({
      method: 'POST', url: '/api/city/case-updates', payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers },
    });
    const update = { updateId: 'CITY-0001', caseNo: c.caseNo, action: 'dispatch', department: '环卫一所' };
    const body = JSON.stringify(update);
    expect((await post(update, { 'x-streeteye-signature': sign(callbackSecret, body) })).statusCode).toBe(401);
    expect((await post(update, { authorization: `Bearer ${only110.key}`, 'x-streeteye-signature': sign(callbackSecret, body) })).statusCode).toBe(403);
    expect((await post(update, { authorization: `Bearer ${key}`, 'x-streeteye-signature': sign('wrong-secret', body) })).statusCode).toBe(401);
    expect((await post(update, { authorization: `Bearer ${key}`, cookie: (await as('admin')).cookie })).statusCode).toBe(401);
    const ok = await post(update, { authorization: `Bearer ${key}`, 'x-streeteye-signature': sign(callbackSecret, body) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ caseNo: c.caseNo, status: 'dispatched', duplicate: false });
    const again = await post(update, { authorization: `Bearer ${key}`, 'x-streeteye-signature': sign(callbackSecret, body) });
    expect(again.json()).toMatchObject({ status: 'dispatched', duplicate: true });
    const page = (await t.app.inject({ url: `/api/cases/${c.id}`, headers: await as('operator') })).json();
    expect(page.history.filter((h: { action: string }) => h.action === 'dispatch')).toEqual([expect.objectContaining({ actor: 'city:城运平台', detail: { department: '环卫一所', by: 'city' } })]);
    // not echoed back to the city
    expect(page.handoffs.map((h: { topic: string }) => h.topic)).toEqual(['case.filed']);
    const wrongStep = { updateId: 'CITY-0002', caseNo: c.caseNo, action: 'close' };
    const w = await post(wrongStep, { authorization: `Bearer ${key}`, 'x-streeteye-signature': sign(callbackSecret, JSON.stringify(wrongStep)) });
    expect(w.statusCode).toBe(409);
    const unknown = { updateId: 'CITY-0003', caseNo: 'SE19990101-000001', action: 'close' };
    expect((await post(unknown, { authorization: `Bearer ${key}`, 'x-streeteye-signature': sign(callbackSecret, JSON.stringify(unknown)) })).statusCode).toBe(404);
    const trail = (await t.app.inject({ url: '/api/audit?action=city.', headers: await as('admin') })).json();
    expect(trail.items.map((a: { action: string }) => a.action)).toContain('city.case.dispatch');
    expect(trail.items.map((a: { action: string }) => a.action)).toContain('city.update_rejected');
  });

  it('searches and exports the audit trail for admin and police110 only', async () => {
    const q = await t.app.inject({ url: `/api/audit?q=${encodeURIComponent('环卫一所')}&limit=5`, headers: await as('police110') });
    expect(q.statusCode).toBe(200);
    expect(q.json().total).toBeGreaterThan(0);
    for (const a of q.json().items) expect(JSON.stringify(a)).toContain('环卫一所');
    expect((await t.app.inject({ url: '/api/audit', headers: await as('operator') })).statusCode).toBe(403);
    const byUser = (await t.app.inject({ url: '/api/audit?username=admin&action=department.create', headers: await as('admin') })).json();
    expect(byUser.items.length).toBeGreaterThan(0);
    expect(byUser.items.every((a: { username: string; action: string }) => a.username === 'admin' && a.action === 'department.create')).toBe(true);
    await t.db.query(`INSERT INTO audit_log (username, action, detail) VALUES ('=cmd', 'x.test', '{}')`);
    const csv = await t.app.inject({ url: '/api/audit/export?action=x.test', headers: await as('admin') });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\n')[1]).toContain("'=cmd");
    const exported = (await t.app.inject({ url: '/api/audit?action=audit.export', headers: await as('admin') })).json();
    expect(exported.total).toBe(1);
  });

  it('lets every user change their own password (current password asked again); other sessions end', async () => {
    const other = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'technician', password: 'test-password-1' } });
    const otherCookie = `streeteye_session=${other.cookies.find((x) => x.name === 'streeteye_session')!.value}`;
    const me = await as('technician');
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/password', headers: me, payload: { currentPassword: 'nope', newPassword: 'new-password-2' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().fieldErrors.currentPassword).toMatch(/当前密码/);
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/password', headers: me, payload: { currentPassword: 'test-password-1', newPassword: 'new-password-2' } });
    expect(ok.statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/auth/me', headers: me })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/auth/me', headers: { cookie: otherCookie } })).statusCode).toBe(401);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'technician', password: 'new-password-2' } });
    expect(login.statusCode).toBe(200);
  });

  it('accepts the console\'s t= cache-buster on a snapshot (the rule editor showed no picture: 400 "t is not a known field")', async () => {
    const cam = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: await as('admin'), payload: { name: '快照点位', rtspMain: 'rtsp://127.0.0.1:9/none' } })).json();
    const withT = await t.app.inject({ url: `/api/cameras/${cam.id}/snapshot?stream=sub&t=1764626400000`, headers: await as('technician') });
    expect(withT.statusCode).not.toBe(400);
    const unknown = await t.app.inject({ url: `/api/cameras/${cam.id}/snapshot?bogus=1`, headers: await as('technician') });
    expect(unknown.statusCode).toBe(400);
  });
});
