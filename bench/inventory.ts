/**
 * Inventory bench: CSV import of 5,000 cameras, then list and search latency over them, through
 * the composed app (routing, validation, auth, serialisation included). PGlite always; PostgreSQL
 * too when TEST_DATABASE_URL is set. Goals: import < 5 s; list/search p99 < 50 ms.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import pg from 'pg';
import { buildApp } from '../server/app.js';
import { createNode } from '../server/node.js';
import { Bus } from '../server/bus.js';
import { loadConfig } from '../server/config.js';
import type { Db } from '../server/db/db.js';
import { migrate } from '../server/db/migrate.js';
import { openPglite } from '../server/db/pglite.js';
import { openPostgres } from '../server/db/postgres.js';
import { hashPassword } from '../server/auth/passwords.js';

const N = 5000;
const DISTRICTS = ['西湖区', '上城区', '拱墅区', '滨江区', '萧山区', '余杭区'];

function csv(): string {
  const header = 'national_id,name,owner,sharing,lat,lng,address,district,street,community,grid_code,tags,rtsp_main,rtsp_sub,onvif_url,username,password';
  const rows = Array.from({ length: N }, (_, i) => [
    `33010600001320${String(i).padStart(6, '0')}`, `路口 ${i} 号`, i % 4 ? '公安分局' : '城管局', i % 10 ? 'shared' : 'restricted',
    (30.2 + (i % 100) / 1000).toFixed(5), (120.1 + (i % 97) / 1000).toFixed(5), `文三路 ${i} 号`, DISTRICTS[i % DISTRICTS.length],
    `街道${i % 40}`, `社区${i % 200}`, `330106${String(i % 500).padStart(3, '0')}00101`.slice(0, 14), i % 3 ? 'road' : 'road;market',
    `rtsp://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/main`, `rtsp://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/sub`,
    `http://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/onvif/device_service`, 'admin', `pw-${i}`,
  ].join(','));
  return [header, ...rows].join('\n');
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(label: string, db: Db): Promise<void> {
  await migrate(db);
  const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-bench-'));
  await db.query(`INSERT INTO users (username, password_hash, role) VALUES ('bench', $1, 'admin')`, [await hashPassword('bench-password')]);
  const node = createNode({ config: loadConfig({ DATA_DIR: dataDir, STREETEYE_SIM_CAMERAS: '0' }), db, logger: pino({ level: 'silent' }), secretKey: randomBytes(32), bus: new Bus() },
    { skip: ['cluster', 'fleet', 'alarms', 'outbox'] });
  await node.start();
  const { app } = await buildApp(node.context);
  await app.ready();
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench', password: 'bench-password' } });
  const cookie = `streeteye_session=${login.cookies[0].value}`;

  const body = csv();
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
  await app.close();
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });

  const fmt = (s: number[]) => `p50 ${pct(s, 50).toFixed(1)} ms  p99 ${pct(s, 99).toFixed(1)} ms  (goal p99 < 50 ms: ${(pct(s, 99) / 50).toFixed(2)}x of budget)`;
  console.log(`\n[${label}] ${N} cameras`);
  console.log(`  import CSV       ${importS.toFixed(2)} s  (${Math.round(N / importS)} rows/s; goal < 5 s: ${(importS / 5).toFixed(2)}x of budget)  ${JSON.stringify({ created: imp.json().created })}`);
  console.log(`  list page        ${fmt(list)}`);
  console.log(`  search q=        ${fmt(search)}`);
  console.log(`  district+tag     ${fmt(filter)}`);
}

const lite = await openPglite();
await run('PGlite', lite);
await lite.close();

const url = process.env.TEST_DATABASE_URL;
if (url) {
  const name = `streeteye_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const db = openPostgres(u.toString());
  try {
    await run('PostgreSQL', db);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
} else {
  console.log('\n(set TEST_DATABASE_URL to bench PostgreSQL too)');
}
