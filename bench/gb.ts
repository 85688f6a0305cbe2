/**
 * npm run bench:gb — GB/T 28181 figures of one node (the table):
 *   1. registered devices with keepalives every 60 s (GB_BENCH_DEVICES, default 10,000): the server's CPU share of
 *      the box during the keepalive phase (GB_BENCH_KEEPALIVE_S, default 60 s), the generator in its own process
 *   2. a catalog of 10,000 channels (GB_BENCH_CHANNELS) queried, paged (4 items per MESSAGE, GB2312) and imported
 *   3. INVITE → first playable LL-HLS part (GB_BENCH_INVITES samples, default 10): p50 / p95
 * Load average is printed beside each figure: the machine may be shared.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import pino from 'pino';
import { buildApp } from '../server/app.js';
import { hashPassword } from '../server/auth/passwords.js';
import { Bus } from '../server/bus.js';
import { loadConfig } from '../server/config.js';
import { migrate } from '../server/db/migrate.js';
import { openPglite } from '../server/db/pglite.js';
import type { AppContext } from '../server/context.js';
import { createNode } from '../server/node.js';
import { GbSimDevice } from '../simulator/gb-device.js';
import { run } from '../ingest/test-fixtures.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';

const SERVER_ID = '34020000002000000001';
const REALM = '3402000000';
const PASSWORD = 'bench-password-1';
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const line = (s: string) => process.stdout.write(`${s}\n`);

async function h264Loop(): Promise<string> {
  const dir = join(tmpdir(), 'streeteye-gb-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'loop-320x240-10fps.h264');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:d=4',
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', tmp]);
  if (r.code !== 0) throw new Error(r.stderr);
  renameSync(tmp, file);
  return file;
}

async function main(): Promise<void> {
  const devices = env('GB_BENCH_DEVICES', 10_000);
  const keepaliveS = env('GB_BENCH_KEEPALIVE_S', 60);
  const channels = env('GB_BENCH_CHANNELS', 10_000);
  const invites = env('GB_BENCH_INVITES', 10);
  const db = await openPglite();
  await migrate(db);
  for (const role of ['operator', 'technician'] as const) await db.query('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $1)', [role, await hashPassword('bench-password')]);
  const dir = await mkdtemp(join(tmpdir(), 'streeteye-gb-bench-'));
  const base: AppContext = { config: loadConfig({ DATA_DIR: dir, STREETEYE_SIM_CAMERAS: '0', TLS_PORT: '0' }), db, logger: pino({ level: 'error' }), secretKey: randomBytes(32), bus: new Bus() };
  // the node as a test app builds it: no cluster, fleet probes, alarms, outbox or demo fleet; the SIP server is started below
  const node = createNode(base, {
    skip: ['cluster', 'fleet', 'alarms', 'outbox', 'gb28181', 'demo-fleet'],
    gb: { serverId: SERVER_ID, realm: REALM, sipHost: '127.0.0.1', sipPort: 0, advertiseHost: '127.0.0.1', password: PASSWORD, acceptNew: true, rtpPorts: [0, 0], mediaTransport: 'udp', keepaliveTimeoutMs: 180_000 },
  });
  await node.start();
  const ctx = node.context;
  const { gb } = ctx;
  const { app } = await buildApp(ctx);
  await app.ready();
  const cookie = async (username: string) => `streeteye_session=${(await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'bench-password' } })).cookies[0].value}`;
  const t = { app, db, ctx, cookie, close: async () => { await app.close(); await gb.stop(); await node.stop(); await db.close(); } };
  await gb.start();
  line(`GB/T 28181 bench — ${cpus().length} cores, load average ${load()} at start`);

  // 1. registrations and keepalives
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'gb-load.ts'), '127.0.0.1', String(gb.server.port), SERVER_ID, REALM, String(devices), PASSWORD, String(keepaliveS), String(keepaliveS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let cpuAt: { usage: NodeJS.CpuUsage; at: number } | undefined;
  let result = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n').filter(Boolean)) {
        const m = JSON.parse(l) as { phase: string; registered?: number; ms?: number; sent?: number; ok?: number };
        if (m.phase === 'registered') {
          line(`registered ${m.registered} of ${devices} devices (digest) in ${((m.ms ?? 0) / 1000).toFixed(1)} s; load ${load()}`);
          cpuAt = { usage: process.cpuUsage(), at: Date.now() };
        } else if (m.phase === 'keepalive' && cpuAt) {
          const u = process.cpuUsage(cpuAt.usage);
          const wall = (Date.now() - cpuAt.at) / 1000;
          const core = (u.user + u.system) / 1e6 / wall;
          result = `keepalives: ${m.ok}/${m.sent} answered over ${wall.toFixed(0)} s (${devices} devices every ${keepaliveS} s); server CPU ${(core * 100).toFixed(1)} % of one core = ${((core / cpus().length) * 100).toFixed(1)} % of the box (goal < 10 %); online ${[...gb.server.registrations.values()].filter((r) => r.online).length}; rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB; load ${load()}`;
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`load generator exited ${code}`))));
  });
  line(result);
  line(`SIP counters: ${JSON.stringify(gb.counters)}`);

  // 2. a 10,000-channel catalog
  const h264 = await h264Loop();
  const platformId = '34020000002000000099';
  await gb.repo.upsertDevice(t.db, { deviceId: platformId, password: PASSWORD });
  const platform = new GbSimDevice({ deviceId: platformId, password: PASSWORD, server: { host: '127.0.0.1', port: gb.server.port, id: SERVER_ID, realm: REALM }, channels, mode: 'platform', h264File: h264, pageSize: 4 });
  await platform.start();
  const imported = new Promise<number>((resolve) => {
    const off = t.ctx.bus.subscribe((m) => {
      if (m.topic === 'gb.catalog' && (m.payload as { deviceId: string; total?: number }).deviceId === platformId && (m.payload as { total?: number }).total !== undefined) { off(); resolve(Date.now()); }
    });
  });
  const c0 = Date.now();
  await platform.register();
  const c1 = await imported;
  line(`catalog of ${channels + 2} items (4 per MESSAGE, GB2312) queried and imported in one transaction: ${((c1 - c0) / 1000).toFixed(2)} s (goal ≤ 10 s); load ${load()}`);

  // 3. INVITE → first playable part
  const ids = platform.channels.slice(0, invites).map((c) => c.id);
  const approved = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: await t.cookie('technician') }, payload: { deviceId: platformId, channelIds: ids, sharing: 'shared' } });
  const cams = (approved.json() as { cameras: Array<{ cameraId: string }> }).cameras;
  const op = await t.cookie('operator');
  const times: number[] = [];
  for (const c of cams) {
    const s0 = Date.now();
    const { url } = (await t.app.inject({ url: `/api/cameras/${c.cameraId}/live`, headers: { cookie: op } })).json() as { url: string };
    const pl = await t.app.inject({ url });
    if (pl.statusCode === 200 && /#EXT-X-PART/.test(pl.body)) times.push(Date.now() - s0);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  line(`INVITE → first playable LL-HLS part: ${times.length}/${cams.length} played; p50 ${q(0.5)} ms, p95 ${q(0.95)} ms (goal ≤ 1500 ms); load ${load()}`);

  await platform.stop();
  await t.close();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
