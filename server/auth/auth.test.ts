import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';

describe.each(dbKinds())('accounts and sessions on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp({ db: kind }); });
  afterAll(async () => { await t.close(); });

  it('logs in with an httpOnly SameSite session cookie and answers /me', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'operator', password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ username: 'operator', role: 'operator' });
    const c = res.cookies.find((x) => x.name === 'streeteye_session')!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Strict');
    const me = await t.app.inject({ url: '/api/auth/me', headers: { cookie: `streeteye_session=${c.value}` } });
    expect(me.json()).toMatchObject({ username: 'operator', role: 'operator' });
  });

  it('refuses wrong credentials with 401 and audits the failure', async () => {
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'operator', password: 'nope-nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toMatch(/wrong username or password/i);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ghost', password: 'nope-nope' } });
    expect(unknown.statusCode).toBe(401);
    const audit = await t.db.query(`SELECT 1 FROM audit_log WHERE action = 'auth.login_failed'`);
    expect(audit.rowCount).toBeGreaterThanOrEqual(2);
  });

  it('rate-limits repeated login attempts for one account', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'mallory', password: 'guess-' + i } });
      codes.push(r.statusCode);
    }
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes.at(-1)).toBe(429);
  });

  it('needs a session on every /api route but login, health and openapi', async () => {
    for (const url of ['/api/cameras', '/api/users', '/api/auth/me', '/api/cameras/export']) {
      const r = await t.app.inject({ url });
      expect(r.statusCode, url).toBe(401);
    }
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });

  it('logout revokes the session server-side', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'technician', password: TEST_PASSWORD } });
    const cookie = `streeteye_session=${login.cookies[0].value}`;
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } })).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('lets admins manage users; disabling a user ends their sessions', async () => {
    const admin = await t.cookie('admin');
    const created = await t.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: admin }, payload: { username: 'li.wei', password: 'long-enough-1', role: 'reviewer' } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    const dup = await t.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: admin }, payload: { username: 'LI.WEI', password: 'long-enough-1', role: 'reviewer' } });
    expect(dup.statusCode).toBe(409);
    const badRole = await t.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: admin }, payload: { username: 'x1', password: 'long-enough-1', role: 'root' } });
    expect(badRole.statusCode).toBe(400);
    expect(badRole.json().fieldErrors.role).toMatch(/one of/);

    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'li.wei', password: 'long-enough-1' } });
    const cookie = `streeteye_session=${login.cookies[0].value}`;
    expect((await t.app.inject({ url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(200);
    const disabled = await t.app.inject({ method: 'PATCH', url: `/api/users/${id}`, headers: { cookie: admin }, payload: { disabled: true } });
    expect(disabled.json().disabled).toBe(true);
    expect((await t.app.inject({ url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(401);
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'li.wei', password: 'long-enough-1' } });
    expect(again.statusCode).toBe(401);

    const list = await t.app.inject({ url: '/api/users?role=reviewer', headers: { cookie: admin } });
    expect(list.json().total).toBe(2);
    expect(JSON.stringify(list.json())).not.toMatch(/password|scrypt/);
    const actions = await t.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id`, [id]);
    expect(actions.rows.map((r) => r.action)).toEqual(['user.create', 'user.update']);
  });

  it('keeps the last admin', async () => {
    const admin = await t.cookie('admin');
    const me = (await t.app.inject({ url: '/api/auth/me', headers: { cookie: admin } })).json();
    const r = await t.app.inject({ method: 'PATCH', url: `/api/users/${me.id}`, headers: { cookie: admin }, payload: { role: 'operator' } });
    expect(r.statusCode).toBe(409);
  });

  it('lets only admins manage users', async () => {
    for (const role of ['operator', 'reviewer', 'police110', 'technician'] as const) {
      const r = await t.app.inject({ url: '/api/users', headers: { cookie: await t.cookie(role) } });
      expect(r.statusCode, role).toBe(403);
    }
  });
});
