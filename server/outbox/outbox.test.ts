import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { createCase } from '../cases/case-service.js';
import { enqueue, verifySignature, backoffMs } from './outbox.js';
import { OutboxWorker } from './worker.js';
import { startReceiver, until } from './receiver.test-helper.js';

const SECRET = 'city-webhook-secret-0123456789';
const quiet = pino({ level: 'silent' });

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 5000, 3_600_000))).toEqual([5000, 10000, 20000, 40000]);
    expect(backoffMs(20, 5000, 3_600_000)).toBe(3_600_000);
  });
});

describe.each(dbKinds())('outbox worker on %s', (kind) => {
  let t: TestApp;
  const workers: OutboxWorker[] = [];
  const worker = (url: string, extra: Partial<ConstructorParameters<typeof OutboxWorker>[0]> = {}) => {
    const w = new OutboxWorker({ db: t.db, logger: quiet, city: { url, secret: SECRET }, callbackKey: Buffer.alloc(32), pollMs: 10, baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 2000, ...extra });
    workers.push(w);
    return w;
  };
  beforeAll(async () => { t = await createTestApp({ db: kind }); });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await t.close();
  });
  const row = async (id: number) => (await t.db.query<{ delivered_at: Date | null; attempts: number; last_error: string | null; last_status: number | null }>(
    'SELECT delivered_at, attempts, last_error, last_status FROM outbox WHERE id = $1', [id])).rows[0];

  it('files a case and its city hand-off in one transaction, or neither', async () => {
    const before = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0].n;
    await expect(t.db.tx(async (q) => {
      await createCase(q, { source: 'manual', eventType: 'exposed_garbage', actor: null });
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0].n).toBe(before);
    const c = await t.db.tx((q) => createCase(q, { source: 'manual', eventType: 'exposed_garbage', address: '文三路 1 号', actor: null }));
    const ob = await t.db.query<{ topic: string; payload: { caseNo: string }; destination: string }>(
      `SELECT topic, payload, destination FROM outbox WHERE payload->>'caseNo' = $1`, [c.caseNo]);
    expect(ob.rows).toEqual([{ topic: 'case.filed', destination: 'city', payload: expect.objectContaining({ caseNo: c.caseNo, eventCode: '06010' }) }]);
  });

  it('retries a failing receiver with backoff, then delivers once, signed', async () => {
    await t.db.query('UPDATE outbox SET delivered_at = now() WHERE delivered_at IS NULL');
    const rx = await startReceiver({ failFirst: 2 });
    const id = await enqueue(t.db, { kind: 'city' }, 'case.filed', { caseNo: 'SE20261125-999999' });
    const w = worker(rx.url);
    w.start();
    await until(async () => (await row(id)).delivered_at, 'delivery');
    await w.stop();
    const r = await row(id);
    expect(r).toMatchObject({ attempts: 3, last_error: null, last_status: 200 });
    expect(rx.received.map((x) => x.status)).toEqual([503, 503, 200]);
    for (const x of rx.received) {
      expect(x.headers['x-streeteye-delivery']).toBe(String(id));
      expect(verifySignature(SECRET, x.body, x.headers['x-streeteye-signature'] as string)).toBe(true);
      expect(x.headers['x-streeteye-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    }
    expect(JSON.parse(rx.received[2].body)).toMatchObject({ deliveryId: String(id), topic: 'case.filed', data: { caseNo: 'SE20261125-999999' } });
    expect(verifySignature('wrong-secret-wrong-secret', rx.received[2].body, rx.received[2].headers['x-streeteye-signature'] as string)).toBe(false);
    await rx.close();
  });

  it('keeps the error and keeps the row when the receiver is down, and a new worker on the same database delivers it', async () => {
    let up = false;
    const rx = await startReceiver({ plan: () => (up ? 200 : 500) });
    const id = await enqueue(t.db, { kind: 'city' }, 'case.filed', { caseNo: 'SE20261125-888888' });
    const first = worker(rx.url);
    first.start();
    await until(async () => (await row(id)).attempts >= 2, 'two failed attempts');
    await first.stop();
    const failed = await row(id);
    expect(failed.delivered_at).toBeNull();
    expect(failed.last_error).toMatch(/HTTP 500/);
    up = true;
    const second = worker(rx.url);
    second.start();
    await until(async () => (await row(id)).delivered_at, 'delivery after restart');
    await second.stop();
    expect(rx.received.filter((x) => x.status === 200)).toHaveLength(1);
    await rx.close();
  });

  it('records a refused connection and a missing city URL as errors to retry', async () => {
    const id = await enqueue(t.db, { kind: 'city' }, 'case.filed', { caseNo: 'x' });
    const rx = await startReceiver();
    const url = rx.url;
    await rx.close();
    const w = worker(url);
    await until(async () => { await w.runOnce(); return (await row(id)).last_error; }, 'an error');
    expect((await row(id)).last_error).toMatch(/ECONNREFUSED|fetch failed/);
    const noCity = worker(url, { city: undefined });
    await t.db.query('UPDATE outbox SET next_attempt_at = now() WHERE id = $1', [id]);
    await noCity.runOnce();
    expect((await row(id)).last_error).toMatch(/CITY_WEBHOOK_URL/);
    await t.db.query('UPDATE outbox SET delivered_at = now() WHERE id = $1', [id]);
  });

  it('shows admins what is waiting and why, and retries a row on request', async () => {
    const id = await enqueue(t.db, { kind: 'city' }, 'case.filed', { caseNo: 'WAIT-1' });
    await t.db.query(`UPDATE outbox SET last_error = 'receiver answered HTTP 502', attempts = 3, next_attempt_at = now() + interval '1 hour' WHERE id = $1`, [id]);
    const admin = await t.cookie('admin');
    const failing = await t.app.inject({ url: '/api/outbox?state=failing', headers: { cookie: admin } });
    expect(failing.json()).toMatchObject({ failing: expect.any(Number), items: expect.arrayContaining([expect.objectContaining({ id, lastError: 'receiver answered HTTP 502', attempts: 3 })]) });
    expect((await t.app.inject({ url: '/api/outbox', headers: { cookie: await t.cookie('operator') } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: `/api/outbox/${id}/retry`, headers: { cookie: admin } })).statusCode).toBe(204);
    const due = await t.db.query<{ due: boolean }>('SELECT next_attempt_at <= now() AS due FROM outbox WHERE id = $1', [id]);
    expect(due.rows[0].due).toBe(true);
    await t.db.query('UPDATE outbox SET delivered_at = now() WHERE id = $1', [id]);
    expect((await t.app.inject({ method: 'POST', url: `/api/outbox/${id}/retry`, headers: { cookie: admin } })).statusCode).toBe(404);
  });

  it('two workers on one database deliver each row exactly once (FOR UPDATE SKIP LOCKED)', async () => {
    const rx = await startReceiver();
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push(await enqueue(t.db, { kind: 'city' }, 'case.filed', { i }));
    const a = worker(rx.url, { batchSize: 3 });
    const b = worker(rx.url, { batchSize: 3 });
    a.start();
    b.start();
    await until(async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::bigint[]) AND delivered_at IS NOT NULL', [ids])).rows[0].n === 30, 'all delivered');
    await Promise.all([a.stop(), b.stop()]);
    const delivered = rx.received.map((x) => Number(x.headers['x-streeteye-delivery']));
    expect(delivered.sort((x, y) => x - y)).toEqual(ids);
    await rx.close();
  });
});
