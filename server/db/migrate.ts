import { readdir, readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface MigrationLog {
  info(obj: object, msg: string): void;
}

/**
 * Applies migrations/NNN_name.sql in order, each in its own transaction, recording it in
 * schema_migrations. A lock keeps two nodes starting together from applying the same file twice.
 */
export async function migrate(db: Db, log?: MigrationLog, dir = MIGRATIONS_DIR): Promise<string[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  const files = (await readdir(dir)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    const version = file.replace(/\.sql$/, '');
    const sql = await readFile(join(dir, file), 'utf8');
    const done = await db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(727274)');
      const seen = await q.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (seen.rowCount > 0) return false;
      await q.exec(sql);
      await q.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      return true;
    });
    if (done) {
      applied.push(version);
      log?.info({ version }, 'migration applied');
    }
  }
  return applied;
}
