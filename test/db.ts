import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import type { Db } from '../server/db/db.js';
import { openPglite } from '../server/db/pglite.js';
import { openPostgres } from '../server/db/postgres.js';
import { withDatabase } from './global-setup.js';

export type DbKind = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI runs PostgreSQL 15). */
export function dbKinds(): DbKind[] {
  return inject('postgresTemplate') ? ['pglite', 'postgres'] : ['pglite'];
}

let templateDump: Buffer | undefined;

/** A clean, migrated database of the given kind; close() also drops a PostgreSQL clone. */
export async function createTestDb(kind: DbKind = 'pglite'): Promise<Db> {
  if (kind === 'pglite') {
    templateDump ??= await readFile(inject('pgliteTemplate'));
    return openPglite({ loadDataDir: new Blob([templateDump]) });
  }
  const url = process.env.TEST_DATABASE_URL!;
  const template = inject('postgresTemplate')!;
  const name = `streeteye_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const db = openPostgres(withDatabase(url, name), 4);
  const close = db.close.bind(db);
  return Object.assign(db, {
    async close() {
      await close();
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  });
}
