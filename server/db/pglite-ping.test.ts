import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb } from '../../test/db.js';
import type { Db } from './db.js';

// PGlite has one embedded connection, owned by a transaction while it runs (a 50,000-row import holds it for
// seconds). /api/health pings the database: queued behind the transaction it stalled for the whole import. While
// the transaction's statements keep completing the engine is alive, and ping says so at once.
describe('PGlite ping during a long transaction', () => {
  let db: Db;
  beforeAll(async () => { db = await createTestDb('pglite'); });
  afterAll(async () => { await db.close(); });

  it('answers while a transaction that is making progress holds the connection, and waits for nothing after it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let inside!: () => void;
    const started = new Promise<void>((r) => { inside = r; });
    const tx = db.tx(async (q) => {
      await q.query(`INSERT INTO users (username, password_hash, role) VALUES ('ping-tx', 'x', 'operator')`);
      inside();
      await held;
    });
    await started;
    const safety = setTimeout(release, 3000); // a ping that queues behind the transaction settles after it, not never
    // the transaction is still open (it waits for `release`): a ping queued behind it would never settle first
    const first = await Promise.race([db.ping().then((ok) => (ok ? 'answered' : 'failed')), tx.then(() => 'transaction ended first')]);
    expect(first).toBe('answered');
    clearTimeout(safety);
    release();
    await tx;
    expect(await db.ping()).toBe(true);
    expect((await db.query(`SELECT 1 FROM users WHERE username = 'ping-tx'`)).rowCount).toBe(1);
  });
});
