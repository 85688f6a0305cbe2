import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dbKinds } from '../../test/db.js';
import type { Db } from '../db/db.js';
import { CameraLeases } from './camera-leases.js';

const quiet = { info() {}, warn() {} };

describe.each(dbKinds())('camera leases on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb(kind);
    for (let i = 0; i < 10; i++) await db.query('INSERT INTO cameras (name) VALUES ($1)', [`cam ${i}`]);
  });
  afterAll(async () => { await db.close(); });

  const leases = (nodeId: string, capacity: number, ttlMs = 60_000) =>
    new CameraLeases({ db, nodeId, kind: 'ingest', capacity, ttlMs, intervalMs: 3_600_000, logger: quiet });

  it('splits cameras between nodes up to their capacity, never twice', async () => {
    const a = leases('node-a', 6);
    const b = leases('node-b', 6);
    await Promise.all([a.start(), b.start()]);
    const both = [...a.cameras(), ...b.cameras()];
    expect(both).toHaveLength(10);
    expect(new Set(both).size).toBe(10);
    expect(a.cameras().length).toBeLessThanOrEqual(6);
    expect(b.cameras().length).toBeLessThanOrEqual(6);
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM camera_leases WHERE kind = 'ingest'`);
    expect(rows.rows[0].n).toBe(10);
    await a.stop();
    await b.stop();
  });

  it("takes over a dead node's cameras only after its leases expire, with a new epoch", async () => {
    const dead = leases('node-dead', 10, 400);
    await dead.start();
    expect(dead.cameras()).toHaveLength(10);
    const epochs = await db.query<{ camera_id: string; epoch: number }>(`SELECT camera_id, epoch FROM camera_leases WHERE kind = 'ingest'`);
    await dead.stop(false); // as if SIGKILLed: rows stay behind

    const survivor = leases('node-survivor', 10);
    await survivor.start();
    expect(survivor.cameras()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 500));
    const acquired: string[] = [];
    survivor.on('acquired', (id) => acquired.push(id));
    await survivor.beat();
    expect(acquired).toHaveLength(10);
    const after = await db.query<{ camera_id: string; epoch: number; node_id: string }>(`SELECT camera_id, epoch, node_id FROM camera_leases WHERE kind = 'ingest'`);
    const before = new Map(epochs.rows.map((r) => [r.camera_id, Number(r.epoch)]));
    for (const r of after.rows) {
      expect(r.node_id).toBe('node-survivor');
      expect(Number(r.epoch)).toBeGreaterThan(before.get(r.camera_id)!);
    }
    await survivor.stop();
  });

  it('fences itself: a lease it could not renew in time is dropped', async () => {
    const n = leases('node-fenced', 3, 300);
    const lost: string[] = [];
    n.on('lost', (id) => lost.push(id));
    await n.start();
    expect(n.cameras()).toHaveLength(3);
    const held = n.cameras()[0];
    expect(n.holds(held)).toBe(true);
    // No renewal happens (interval is an hour): the guarantee runs out by the node's own clock.
    await expect.poll(() => lost.length, { timeout: 2000 }).toBe(3);
    expect(n.holds(held)).toBe(false);
    // the database answers again before the rows expired in it: the same cameras come back, announced again
    const back: string[] = [];
    n.on('acquired', (id) => back.push(id));
    await db.query(`UPDATE camera_leases SET expires_at = now() + interval '1 minute' WHERE node_id = 'node-fenced'`);
    await n.beat();
    expect(back).toHaveLength(3);
    expect(n.holds(held)).toBe(true);
    await n.stop();
  });
});
