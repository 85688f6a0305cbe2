import { PGlite, types } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';

export interface PgliteOptions {
  /** Directory of the database files; undefined = in memory. */
  dataDir?: string;
  /** A dump (from dumpDataDir) to start from instead of running initdb: how tests get a clean database fast. */
  loadDataDir?: Blob;
}

// Same int8 handling as the pg driver setup: plain numbers.
const parsers = { [types.INT8]: (v: string) => Number(v) };

export async function openPglite(opts: PgliteOptions = {}): Promise<Db & { raw: PGlite }> {
  const pg = await PGlite.create({ dataDir: opts.dataDir, loadDataDir: opts.loadDataDir, parsers });
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const res = await q.query<T>(sql, params as unknown[]);
      // PGlite reports affectedRows 0 for SELECT; pg reports the row count: match pg.
      return { rows: res.rows, rowCount: res.rows.length || res.affectedRows || 0 };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const self = wrap(pg);
  return {
    kind: 'pglite',
    raw: pg,
    query: self.query,
    exec: self.exec,
    tx: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async ping() {
      try {
        await pg.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
}
