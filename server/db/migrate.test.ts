import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dbKinds } from '../../test/db.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';

describe.each(dbKinds())('migrations on %s', (kind) => {
  let db: Db;
  beforeAll(async () => { db = await createTestDb(kind); });
  afterAll(async () => { await db.close(); });

  it('starts from a migrated database and applying again changes nothing', async () => {
    const versions = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toContain('001_foundation');
    expect(await migrate(db)).toEqual([]);
  });

  it('rolls a failing transaction back whole', async () => {
    await expect(db.tx(async (q) => {
      await q.query(`INSERT INTO users (username, password_hash, role) VALUES ('tx-user', 'x', 'operator')`);
      await q.query('SELECT * FROM no_such_table');
    })).rejects.toThrow();
    const left = await db.query(`SELECT 1 FROM users WHERE username = 'tx-user'`);
    expect(left.rowCount).toBe(0);
  });

  it('enforces the camera constraints in the schema itself', async () => {
    await expect(db.query(`INSERT INTO cameras (name, rtsp_main) VALUES ('c1', 'file:///etc/passwd')`)).rejects.toThrow();
    await expect(db.query(`INSERT INTO cameras (name, national_id) VALUES ('c2', '123')`)).rejects.toThrow();
    const ok = await db.query<{ search_text: string }>(`INSERT INTO cameras (name, address) VALUES ('North Gate', 'Main St') RETURNING search_text`);
    expect(ok.rows[0].search_text).toBe('north gate  main st     ');
  });
});
