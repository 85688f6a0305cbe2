import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dbKinds } from '../../test/db.js';
import type { Db } from '../db/db.js';
import { CameraLeases } from './camera-leases.js';
import { ANALYTICS_ELIGIBLE_SQL, INGEST_ELIGIBLE_SQL } from './cluster.js';

const quiet = { info() {}, warn() {} };

describe.each(dbKinds())('who pulls which camera on %s', (kind) => {
  let db: Db;
  const withRules: string[] = [];
  beforeAll(async () => {
    db = await createTestDb(kind);
    for (let i = 0; i < 6; i++) {
      const id = (await db.query<{ id: string }>('INSERT INTO cameras (name) VALUES ($1) RETURNING id', [`cam ${i}`])).rows[0].id;
      if (i < 2) {
        withRules.push(id);
        await db.query(`INSERT INTO rules (camera_id, event_type, zone, detector) VALUES ($1, 'fire_lane_blocked', '[[0,0],[1,0],[1,1]]', 'foreground')`, [id]);
      }
    }
  });
  afterAll(async () => { await db.close(); });

  const leases = (nodeId: string, eligibleSql: string) =>
    new CameraLeases({ db, nodeId, kind: 'ingest', capacity: 10, ttlMs: 60_000, intervalMs: 3_600_000, eligibleSql, logger: quiet });

  it('an analytics node pulls the cameras with rules; ingest nodes leave them to it while it is alive', async () => {
    await db.query(`INSERT INTO cluster_nodes (id, role, capacity) VALUES ('an-1', 'analytics', 10)`);
    const analytics = leases('an-1', ANALYTICS_ELIGIBLE_SQL);
    const ingest = leases('in-1', INGEST_ELIGIBLE_SQL);
    await ingest.start();
    await analytics.start();
    expect(ingest.cameras()).toHaveLength(4);
    expect(ingest.cameras().some((id) => withRules.includes(id))).toBe(false);
    expect(analytics.cameras().sort()).toEqual([...withRules].sort());
    await analytics.stop(); // hands its cameras back at once
    await db.query(`UPDATE cluster_nodes SET stopped_at = now() WHERE id = 'an-1'`);
    await ingest.beat();
    expect(ingest.cameras()).toHaveLength(6); // no analytics node: live video of every camera still works
    // the analytics node is back: the ingest node hands the cameras with rules back at its next beat
    const lost: string[] = [];
    ingest.on('lost', (id) => lost.push(id));
    await db.query(`UPDATE cluster_nodes SET stopped_at = NULL, heartbeat_at = now() WHERE id = 'an-1'`);
    await ingest.beat();
    expect(lost.sort()).toEqual([...withRules].sort());
    expect(ingest.cameras()).toHaveLength(4);
    const again = leases('an-2', ANALYTICS_ELIGIBLE_SQL);
    await again.start();
    expect(again.cameras().sort()).toEqual([...withRules].sort());
    await again.stop();
    await ingest.stop();
  });
});
