import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { until } from '../outbox/receiver.test-helper.js';
import { transitionCase } from '../cases/case-service.js';

const DEPT = '文新街道城管中队';

/**
 * The 110 desk follows case steps after the case commits (cases/transition-feed.ts): a step reaches the incident,
 * one committed while the desk was down is mirrored when a node starts again, and nothing is mirrored twice.
 */
describe.each(dbKinds())('110 desk following case steps on %s', (kind) => {
  let t: TestApp;
  let police: string;
  let op: string;
  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    await t.db.query('INSERT INTO departments (name) VALUES ($1)', [DEPT]);
    police = await t.cookie('police110');
    op = await t.cookie('operator');
  });
  afterAll(async () => { await t.close(); });

  /** A 110 incident accepted into a case: its case id. */
  async function acceptedCase(ticketNo: string): Promise<string> {
    const r = await t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { cookie: police }, payload: {
      ticketNo, reportedAt: new Date().toISOString(), address: '文三路 90 号', reportText: '占道经营', categoryCode: '0901' } });
    expect(r.statusCode, r.body).toBe(201);
    const acc = await t.app.inject({ method: 'POST', url: `/api/110/incidents/${ticketNo}/accept`, headers: { cookie: op }, payload: {} });
    expect(acc.statusCode, acc.body).toBe(200);
    return acc.json().caseId;
  }
  const step = (caseId: string, body: object) =>
    t.app.inject({ method: 'POST', url: `/api/cases/${caseId}/transitions`, headers: { cookie: op }, payload: body });
  const incident = async (ticketNo: string) => (await t.app.inject({ url: `/api/110/incidents/${ticketNo}`, headers: { cookie: police } })).json();
  const historyRows = async (ticketNo: string) => (await t.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM incident_history h JOIN incidents_110 i ON i.id = h.incident_id WHERE i.ticket_no = $1', [ticketNo])).rows[0].n;

  it('a step of a 110 case reaches its incident (status, unit, result)', async () => {
    const caseId = await acceptedCase('SYNC-1');
    expect((await step(caseId, { action: 'dispatch', department: DEPT })).statusCode).toBe(200);
    expect(await incident('SYNC-1')).toMatchObject({ status: 'dispatched', handledUnit: DEPT, caseStatus: 'dispatched' });
    expect((await step(caseId, { action: 'handle', note: '已清理' })).statusCode).toBe(200);
    const got = await incident('SYNC-1');
    expect(got).toMatchObject({ status: 'handled', handleResult: '已清理', handledUnit: DEPT });
    expect(got.history.map((h: { status: string }) => h.status)).toEqual(['received', 'accepted', 'dispatched', 'handled']);
  });

  it('a step committed while the desk was down is mirrored when a node starts again, once', async () => {
    const caseId = await acceptedCase('SYNC-2');
    // the process dies between the case's commit and the desk's work: the follower is stopped, the step commits
    await t.ctx.transitions.stop();
    expect((await step(caseId, { action: 'dispatch', department: DEPT })).statusCode).toBe(200);
    expect((await step(caseId, { action: 'void', note: '重复警情' })).statusCode).toBe(200);
    expect(await incident('SYNC-2')).toMatchObject({ status: 'accepted', caseStatus: 'void' });
    expect(await historyRows('SYNC-2')).toBe(2);

    // a node starting on the same database catches up from the desk's cursor
    const restarted = await createTestApp({ db: t.db });
    try {
      const got = await incident('SYNC-2');
      expect(got).toMatchObject({ status: 'returned', returnReason: '重复警情', handledUnit: DEPT });
      expect(got.history.map((h: { status: string }) => h.status)).toEqual(['received', 'accepted', 'dispatched', 'returned']);
      // the first node back, and more wake-ups on both: nothing is mirrored twice
      await t.ctx.transitions.start();
      await Promise.all([t.ctx.transitions.wake(), restarted.ctx.transitions.wake()]);
      expect(await historyRows('SYNC-2')).toBe(4);
    } finally {
      await restarted.close();
    }
  });

  it.runIf(kind === 'postgres')('waits for a step still committing rather than skipping past it', async () => {
    const early = await acceptedCase('SYNC-3');
    const late = await acceptedCase('SYNC-4');
    const actor = { id: null, username: 'operator', role: 'operator' as const };
    // SYNC-3's step takes the lower history id but commits last
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const wrote = new Promise<void>((r) => (written = r));
    const slow = t.db.tx(async (q) => {
      await transitionCase(q, { caseId: early, action: 'dispatch', department: DEPT, actor });
      written();
      await gate;
    });
    try {
      await wrote;
      await t.db.tx((q) => transitionCase(q, { caseId: late, action: 'dispatch', department: DEPT, actor }));
      let ran = false;
      const run = t.ctx.transitions.wake().then(() => { ran = true; });
      // SYNC-3 commits once the follower is waiting for it (or, if the follower did not wait, once it has run past it)
      await until(async () => ran || (await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'case_history'::regclass`)).rows[0].n > 0, 'follower waits or ran');
      release();
      await slow;
      await run;
      await t.ctx.transitions.wake();
    } finally {
      release();
    }
    expect((await incident('SYNC-3')).status).toBe('dispatched');
    expect((await incident('SYNC-4')).status).toBe('dispatched');
  });
});
