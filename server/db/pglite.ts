import { PGlite, types } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';

export interface PgliteOptions {
  /** Directory of the database files; undefined = in memory. */
  dataDir?: string;
  /** A dump (from dumpDataDir) to start from instead of running initdb: how tests get a clean database fast. */
  loadDataDir?: Blob;
}

/** ping() during a transaction: the engine counts as alive while the transaction's last statement ended this recently. */
const PING_TX_PROGRESS_MS = 5000;

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
  // The one embedded connection is owned by a transaction while it runs (a 50,000-row import holds it for seconds):
  // a health ping queued behind it would say nothing about the engine but that it is busy. While a transaction is
  // open and its statements keep completing, the engine is alive: ping answers at once instead of waiting.
  let openTx = 0;
  let txProgressAt = 0;
  const tracked = (q: Queryable): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      try { return await q.query<T>(sql, params); } finally { txProgressAt = performance.now(); }
    },
    async exec(sql: string) {
      try { await q.exec(sql); } finally { txProgressAt = performance.now(); }
    },
  });
  return {
    kind: 'pglite',
    raw: pg,
    query: self.query,
    exec: self.exec,
    tx: (fn) => pg.transaction(async (tx) => {
      openTx++;
      txProgressAt = performance.now();
      try {
        return await fn(tracked(wrap(tx)));
      } finally {
        openTx--;
      }
    }),
    async ping() {
      if (openTx > 0 && performance.now() - txProgressAt < PING_TX_PROGRESS_MS) return true;
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
