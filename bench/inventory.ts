/**
 * Inventory bench: CSV import of 5,000 cameras, then list and search latency over them, through
 * the composed app (routing, validation, auth, serialisation included); then a provincial-size file (50,000 rows,
 * ~11.7 MB) imported and re-imported over a real socket while /api/health is asked every 50 ms. PGlite always;
 * PostgreSQL too when TEST_DATABASE_URL is set (BENCH_DB=postgres: PostgreSQL only). Goals: 5,000-row import < 5 s; list/search p99 < 50 ms; 50,000 rows
 * ≤ 10 s each (first import and the re-import that updates every row); peak RSS growth during the large import
 * < 300 MB (it was ~800 MB); /api/health max < 500 ms during the import (it stalled 2.7 s).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from '../server/app.js';
import { createNode } from '../server/node.js';
import { Bus } from '../server/bus.js';
import { loadConfig } from '../server/config.js';
import type { Db } from '../server/db/db.js';
import { migrate } from '../server/db/migrate.js';
import { openPglite } from '../server/db/pglite.js';
import { withScratchPostgres } from './scratch-postgres.js';
import { hashPassword } from '../server/auth/passwords.js';
import { FIXTURE_DISTRICTS, fixtureCsv } from '../server/inventory/csv-fixture.js';

/**
 * One large import over HTTP while a probe asks /api/health every 50 ms and memory is sampled every 20 ms.
 * Health latency counts from when the probe was due, so a blocked event loop shows up in full.
 */
async function largeImport(base: string, cookie: string, body: Buffer): Promise<{ s: number; status: number; reply: string; rssPeakMb: number; rssBaseMb: number; health: number[] }> {
  const rssBase = process.memoryUsage().rss;
  let rssPeak = rssBase;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 20);
  const health: number[] = [];
  let done = false;
  const probe = (async () => {
    while (!done) {
      const due = performance.now();
      const r = await fetch(`${base}/api/health`);
      await r.arrayBuffer();
      health.push(performance.now() - due);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const t0 = performance.now();
  const res = await fetch(`${base}/api/cameras/import`, { method: 'POST', headers: { cookie, 'content-type': 'text/csv' }, body });
  const reply = await res.text();
  const s = (performance.now() - t0) / 1000;
  done = true;
  await probe;
  clearInterval(sampler);
  return { s, status: res.status, reply, rssPeakMb: rssPeak / 1048576, rssBaseMb: rssBase / 1048576, health: health.sort((a, b) => a - b) };
}

const N = 5000;
const LARGE = Number(process.env.BENCH_IMPORT_ROWS ?? 50_000);
const DISTRICTS = FIXTURE_DISTRICTS;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(label: string, db: Db): Promise<void> {
  await migrate(db);
  const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-bench-'));
  await db.query(`INSERT INTO users (username, password_hash, role) VALUES ('bench', $1, 'admin')`, [await hashPassword('bench-password')]);
  const node = createNode({ config: loadConfig({ DATA_DIR: dataDir, STREETEYE_SIM_CAMERAS: '0' }), db, logger: pino({ level: 'silent' }), secretKey: randomBytes(32), bus: new Bus() },
    { skip: ['cluster', 'fleet', 'alarms', 'outbox', 'gb28181'] }); // no SIP server: its fixed port may be taken
  await node.start();
  const { app } = await buildApp(node.context);
  await app.ready();
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench', password: 'bench-password' } });
  const cookie = `streeteye_session=${login.cookies[0].value}`;

  const body = fixtureCsv(N);
  const t0 = performance.now();
  const imp = await app.inject({ method: 'POST', url: '/api/cameras/import', headers: { cookie, 'content-type': 'text/csv' }, payload: body });
  const importS = (performance.now() - t0) / 1000;
  if (imp.statusCode !== 200) throw new Error(`import failed: ${imp.statusCode} ${imp.body.slice(0, 300)}`);

  const time = async (urls: () => string, n: number) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const r = await app.inject({ url: urls(), headers: { cookie } });
      if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`);
      samples.push(performance.now() - s);
    }
    return samples.sort((a, b) => a - b);
  };
  let i = 0;
  const list = await time(() => `/api/cameras?limit=50&offset=${(i++ * 50) % N}`, 200);
  const search = await time(() => `/api/cameras?q=${encodeURIComponent(`路口 ${i++ * 37 % N}`)}&limit=50`, 200);
  const filter = await time(() => `/api/cameras?district=${encodeURIComponent(DISTRICTS[i++ % 6])}&tag=market&limit=50&offset=100`, 200);

  // the provincial-size file: first import (inserts, over the 5,000 above: those rows are updated), then a re-import
  // that changes every camera (updates only)
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const big = fixtureCsv(LARGE);
  const first = await largeImport(base, cookie, big);
  if (first.status !== 200) throw new Error(`large import failed: ${first.status} ${first.reply.slice(0, 300)}`);
  const again = await largeImport(base, cookie, fixtureCsv(LARGE, 1));
  if (again.status !== 200) throw new Error(`re-import failed: ${again.status} ${again.reply.slice(0, 300)}`);
  await app.close();
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });

  const fmt = (s: number[]) => `p50 ${pct(s, 50).toFixed(1)} ms  p99 ${pct(s, 99).toFixed(1)} ms  (goal p99 < 50 ms: ${(pct(s, 99) / 50).toFixed(2)}x of budget)`;
  console.log(`\n[${label}] ${N} cameras`);
  console.log(`  import CSV       ${importS.toFixed(2)} s  (${Math.round(N / importS)} rows/s; goal < 5 s: ${(importS / 5).toFixed(2)}x of budget)  ${JSON.stringify({ created: imp.json().created })}`);
  console.log(`  list page        ${fmt(list)}`);
  console.log(`  search q=        ${fmt(search)}`);
  console.log(`  district+tag     ${fmt(filter)}`);
  const mb = (big.length / 1048576).toFixed(1);
  for (const [what, r] of [['import', first], ['re-import', again]] as const) {
    const h = r.health;
    const counts = JSON.parse(r.reply) as { created: number; updated: number };
    console.log(`  ${what} ${LARGE} rows (${mb} MB)  ${r.s.toFixed(2)} s  (${Math.round(LARGE / r.s)} rows/s; goal ≤ 10 s: ${(r.s / 10).toFixed(2)}x of budget)  created ${counts.created}, updated ${counts.updated}`);
    console.log(`      peak RSS ${r.rssPeakMb.toFixed(0)} MB (+${(r.rssPeakMb - r.rssBaseMb).toFixed(0)} MB over ${r.rssBaseMb.toFixed(0)} MB; goal < +300 MB: ${((r.rssPeakMb - r.rssBaseMb) / 300).toFixed(2)}x)`);
    console.log(`      /api/health during it: ${h.length} probes, p50 ${pct(h, 50).toFixed(0)} ms  p99 ${pct(h, 99).toFixed(0)} ms  max ${h[h.length - 1].toFixed(0)} ms  (goal max < 500 ms: ${(h[h.length - 1] / 500).toFixed(2)}x)`);
  }
}

if (process.env.BENCH_DB !== 'postgres') {
  const lite = await openPglite();
  await run('PGlite', lite);
  await lite.close();
}

const url = process.env.TEST_DATABASE_URL;
if (url) {
  await withScratchPostgres(url, 'streeteye_bench', (db) => run('PostgreSQL', db));
} else {
  console.log('\n(set TEST_DATABASE_URL to bench PostgreSQL too)');
}
