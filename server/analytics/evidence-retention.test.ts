import { randomUUID } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { EvidenceRetention } from './evidence-retention.js';

const exists = async (p: string) => (await stat(p).catch(() => null)) !== null;

describe.each(dbKinds())('evidence retention (%s)', (kind) => {
  let t: TestApp;
  let camera: string;
  let evidenceDir: string;
  const h = async (role: Parameters<TestApp['cookie']>[0]) => ({ cookie: await t.cookie(role) });

  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    evidenceDir = t.ctx.analytics.evidenceDir;
    camera = (await t.db.query<{ id: string }>(`INSERT INTO cameras (name, rtsp_sub) VALUES ('cam-r', 'rtsp://127.0.0.1:9/r') RETURNING id`)).rows[0].id;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A pending candidate with three evidence files (a 4 KB clip), first seen `daysAgo` days ago. */
  async function candidate(daysAgo: number): Promise<{ id: string; files: string[] }> {
    const id = randomUUID();
    const rel = join('retention', id);
    await mkdir(join(evidenceDir, rel), { recursive: true });
    const names = ['annotated.jpg', 'clean.jpg', 'clip.mp4'];
    for (const n of names) await writeFile(join(evidenceDir, rel, n), Buffer.alloc(n === 'clip.mp4' ? 4096 : 100, 1));
    const at = new Date(Date.now() - daysAgo * 86_400_000);
    await t.db.query(`INSERT INTO events (id, camera_id, event_type, event_code, score, first_seen, last_seen, evidence_jpeg, evidence_frame, evidence_clip)
      VALUES ($1, $2, 'illegal_motor_parking', '09009', 0.8, $3, $3, $4, $5, $6)`,
    [id, camera, at, ...names.map((n) => join(rel, n))]);
    return { id, files: names.map((n) => join(evidenceDir, rel, n)) };
  }

  async function review(id: string, action: 'reject' | 'confirm', daysAgo: number): Promise<void> {
    const payload = action === 'reject' ? { reason: 'misdetection' } : {};
    const r = await t.app.inject({ method: 'POST', url: `/api/events/${id}/${action}`, headers: await h('reviewer'), payload });
    expect(r.statusCode, r.body).toBe(200);
    await t.db.query(`UPDATE events SET reviewed_at = now() - make_interval(days => $2::int) WHERE id = $1`, [id, daysAgo]);
  }

  it('removes the evidence of old rejected events only; confirmed, pending and recent ones keep theirs', async () => {
    const oldRejected = await candidate(40);
    await review(oldRejected.id, 'reject', 40);
    const recentRejected = await candidate(40);
    await review(recentRejected.id, 'reject', 10);
    const oldConfirmed = await candidate(40);
    await review(oldConfirmed.id, 'confirm', 40);
    const oldPending = await candidate(40);
    const alreadyGone = await candidate(50);
    await review(alreadyGone.id, 'reject', 50);
    await import('node:fs/promises').then((fs) => fs.rm(alreadyGone.files[2]));

    const sweeper = new EvidenceRetention({ db: t.db, evidenceDir, days: 30, logger: pino({ level: 'silent' }), batch: 1 });
    const result = await sweeper.sweep();
    expect(result).toEqual({ events: 2, files: 5, bytes: (100 + 100 + 4096) + (100 + 100) });

    for (const f of [...oldRejected.files, ...alreadyGone.files]) expect(await exists(f)).toBe(false);
    for (const f of [...recentRejected.files, ...oldConfirmed.files, ...oldPending.files]) expect(await exists(f)).toBe(true);

    // the row stays rejected (precision counts it); its evidence says when it went, the files answer 410
    const ev = (await t.app.inject({ url: `/api/events/${oldRejected.id}`, headers: await h('reviewer') })).json();
    expect(ev.status).toBe('rejected');
    expect(ev.evidence).toMatchObject({ annotated: false, clean: false, clip: false });
    expect(Date.parse(ev.evidence.purgedAt)).toBeGreaterThan(Date.now() - 60_000);
    const gone = await t.app.inject({ url: `/api/events/${oldRejected.id}/evidence/clip`, headers: await h('reviewer') });
    expect(gone.statusCode).toBe(410);
    expect(gone.json().message).toMatch(/retention policy/);
    const kept = await t.app.inject({ url: `/api/events/${oldConfirmed.id}/evidence/clip`, headers: await h('reviewer') });
    expect(kept.statusCode).toBe(200);
    expect(kept.rawPayload.length).toBe(4096);

    // nothing more is due: a second sweep is a no-op
    expect(await sweeper.sweep()).toEqual({ events: 0, files: 0, bytes: 0 });
  });

  it('sweeps on its timer once started, and never with 0 days', async () => {
    const due = await candidate(100);
    await review(due.id, 'reject', 100);
    const never = new EvidenceRetention({ db: t.db, evidenceDir, days: 0, logger: pino({ level: 'silent' }), firstAfterMs: 10 });
    never.start();
    await new Promise((r) => setTimeout(r, 300));
    await never.stop();
    expect(await exists(due.files[0])).toBe(true);

    const sweeper = new EvidenceRetention({ db: t.db, evidenceDir, days: 30, logger: pino({ level: 'silent' }), firstAfterMs: 10, everyMs: 50 });
    sweeper.start();
    const until = Date.now() + 10_000;
    while (await exists(due.files[0]) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await sweeper.stop();
    expect(await exists(due.files[0])).toBe(false);
    const row = (await t.db.query<{ purged: boolean }>('SELECT evidence_purged_at IS NOT NULL AS purged FROM events WHERE id = $1', [due.id])).rows[0];
    expect(row.purged).toBe(true);
  });

  it('reads EVIDENCE_RETENTION_DAYS and EVIDENCE_DIR, refusing a bad value by name', async () => {
    const { analyticsConfigFromEnv } = await import('./service.js');
    const cfg = analyticsConfigFromEnv({ EVIDENCE_RETENTION_DAYS: '7', EVIDENCE_DIR: '/srv/evidence' }, '/data');
    expect(cfg.evidenceRetentionDays).toBe(7);
    expect(cfg.evidenceDir).toBe('/srv/evidence');
    expect(analyticsConfigFromEnv({}, '/data')).toMatchObject({ evidenceRetentionDays: 30, evidenceDir: '/data/evidence' });
    expect(() => analyticsConfigFromEnv({ EVIDENCE_RETENTION_DAYS: 'a week' }, '/data')).toThrow(/EVIDENCE_RETENTION_DAYS/);
  });
});
