/** A throw-away PostgreSQL database for a bench: created from TEST_DATABASE_URL's server, dropped afterwards. */
import pg from 'pg';
import { openPostgres } from '../server/db/postgres.js';
import type { Db } from '../server/db/db.js';

export async function withScratchPostgres(url: string, prefix: string, fn: (db: Db) => Promise<void>): Promise<void> {
  const name = `${prefix}_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const db = openPostgres(u.toString());
  try {
    await fn(db);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}
