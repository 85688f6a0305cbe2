import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Config } from './config.js';
import type { Db } from './db/db.js';
import { openPostgres } from './db/postgres.js';
import { openPglite } from './db/pglite.js';

/** DATABASE_URL → PostgreSQL; unset → PGlite files in DATA_DIR/pglite. */
export async function openDatabase(config: Config): Promise<Db> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl);
  const dir = join(config.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  return openPglite({ dataDir: dir });
}
