import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dbKinds } from '../../test/db.js';
import type { Db } from '../db/db.js';
import { CameraLeases } from './camera-leases.js';
import { DEFAULT_LEASE_TTL_S } from './lease-timing.js';

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

  it('balances by capacity: a node that joins late gets its share, handed back only after the sessions stopped', async () => {
    const node = (id: string, capacity: number) => db.query(`INSERT INTO cluster_nodes (id, role, capacity) VALUES ($1, 'ingest', $2)`, [id, capacity]);
    const balanced = (id: string, capacity: number) => new CameraLeases({
      db, nodeId: id, kind: 'ingest', capacity, ttlMs: 60_000, intervalMs: 3_600_000, logger: quiet, balance: { role: 'ingest', maxMovesPerBeat: 2 },
    });
    await node('bal-a', 10);
    const a = balanced('bal-a', 10);
    await a.start();
    expect(a.cameras()).toHaveLength(10); // alone: everything

    // B joins with half A's capacity: shares ceil(10·10/15) = 7 and ceil(10·5/15) = 4
    await node('bal-b', 5);
    const b = balanced('bal-b', 5);
    await b.start();
    expect(b.cameras()).toHaveLength(0); // nothing free yet

    // A's sessions stop slowly: its rows stay (and keep being renewed) until they did
    const stopping = new Map<string, () => void>();
    a.stopCamera = (id) => new Promise<void>((r) => stopping.set(id, r));
    a.releaseOrder = (ids) => [...ids].sort(); // deterministic: the lowest ids go first
    const lost: string[] = [];
    a.on('lost', (id: string) => lost.push(id));
    await a.beat();
    expect(lost).toHaveLength(2); // at most maxMovesPerBeat per beat
    for (const id of lost) expect(a.holds(id)).toBe(false); // never reconnected here from now on
    await a.beat(); // sessions still stopping: their rows stay; the one camera still beyond the share goes too
    expect(lost).toHaveLength(3);
    await b.beat();
    expect(b.cameras()).toHaveLength(0); // nothing free until the sessions stopped

    for (const done of stopping.values()) done();
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 4; i++) {
      await a.beat();
      await b.beat();
      for (const done of stopping.values()) done();
      await new Promise((r) => setImmediate(r));
    }
    expect(a.cameras()).toHaveLength(7);
    expect(b.cameras()).toHaveLength(3); // its share is 4, but 7 + 3 covers the fleet: nothing more moves
    await a.beat();
    expect(lost).toHaveLength(3);
    expect(new Set([...a.cameras(), ...b.cameras()]).size).toBe(10);
    expect(b.cameras().every((id) => lost.includes(id))).toBe(true); // B got exactly what A handed back

    // B dies (its node row goes stale): A's share is all again and it takes B's cameras once their leases expire
    await b.stop(true);
    await db.query(`UPDATE cluster_nodes SET stopped_at = now() WHERE id = 'bal-b'`);
    await a.beat();
    expect(a.cameras()).toHaveLength(10);
    await a.stop();
  });

  it("a survivor claims a silent peer's cameras as soon as they expire, not at its next scheduled beat", async () => {
    // earlier tests' nodes do not count here
    await db.query(`UPDATE cluster_nodes SET stopped_at = now() WHERE role = 'ingest'`);
    for (const id of ['wake-a', 'wake-b']) await db.query(`INSERT INTO cluster_nodes (id, role, capacity) VALUES ($1, 'ingest', 10)`, [id]);
    // every renewal and claim is a heartbeat; the scheduled beats are an hour apart, so only the early wake-up can
    // take the dead node's cameras within this test
    const node = (id: string) => new CameraLeases({ db, nodeId: id, kind: 'ingest', capacity: 10, ttlMs: 1500, intervalMs: 3_600_000, logger: quiet, balance: { role: 'ingest' } });
    const a = node('wake-a');
    const b = node('wake-b');
    await b.start();
    await a.start();
    expect(a.cameras()).toHaveLength(5);
    expect(b.cameras()).toHaveLength(5);
    const dead = b.cameras();
    await b.stop(false); // as if SIGKILLed: its rows and its node row stay behind, its heartbeat stops
    const acquired: string[] = [];
    a.on('acquired', (id: string) => acquired.push(id));
    try {
      await expect.poll(() => a.cameras().length, { timeout: 20_000, interval: 50 }).toBe(10);
      // (its own cameras may come back too: with beats an hour apart its own guarantee ran out meanwhile)
      expect(acquired).toEqual(expect.arrayContaining(dead));
      // taken only once expired, on the database's clock, under a new epoch
      const rows = await db.query<{ node_id: string }>(`SELECT node_id FROM camera_leases WHERE kind = 'ingest' AND camera_id = ANY($1::uuid[])`, [dead]);
      expect(rows.rows.every((r) => r.node_id === 'wake-a')).toBe(true);
    } finally {
      await a.stop();
      await db.query(`UPDATE cluster_nodes SET stopped_at = now() WHERE id IN ('wake-a', 'wake-b')`);
    }
  }, 30_000);

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

  it('at the default timing, rides out a 1 s event-loop stall without dropping a camera, and fences itself past the TTL', async () => {
    const n = new CameraLeases({ db, nodeId: 'node-stalled', kind: 'ingest', capacity: 3, logger: quiet }); // defaults
    const events: string[] = [];
    n.on('lost', (id) => events.push(`lost ${id}`));
    n.on('acquired', (id) => events.push(`acquired ${id}`));
    const block = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end) { /* a blocked event loop */ } };
    try {
      await n.start();
      expect(n.cameras()).toHaveLength(3);
      events.length = 0;
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 300 + i * 170)); // at different points of the renewal cycle
        block(1000);
      }
      await new Promise((r) => setTimeout(r, 1500));
      expect(events).toEqual([]); // no lease flapping: nothing lost, nothing re-acquired
      expect(n.cameras()).toHaveLength(3);
      // a stall longer than the TTL: its rows may have expired, so it must have stopped pulling (fenced)
      block(DEFAULT_LEASE_TTL_S * 1000 + 200);
      await expect.poll(() => events.filter((e) => e.startsWith('lost')).length, { timeout: 3000 }).toBe(3);
    } finally {
      await n.stop();
    }
  }, 30_000);
});
