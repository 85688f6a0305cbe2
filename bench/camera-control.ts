/**
 * Camera control bench, through the composed app against the simulator's ONVIF services:
 *   - PTZ: round trip of POST /api/cameras/:id/ptz/move (session, lock, SOAP ContinuousMove) p50/p95, first and warm
 *   - alarms: camera raises tamper → `camera.alarm` on the bus (pull-point long poll, row written) p50/p95
 *   - alarm subscriptions held for N cameras: CPU and RSS of this process (server and simulator together) while idle
 * Goals: a PTZ key press reaches the camera within 100 ms p95 (operators steer by eye); an alarm reaches the console
 * within 1 s p95; idle subscriptions cost next to nothing.
 *   npm run bench:control [-- --cameras 300]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startSmallFleet } from '../simulator/small-fleet.js';
import { AlarmWatcher } from '../server/alarms/alarm-watcher.js';
import { buildApp } from '../server/app.js';
import { createNode } from '../server/node.js';
import { hashPassword } from '../server/auth/passwords.js';
import { Bus } from '../server/bus.js';
import { loadConfig } from '../server/config.js';
import { migrate } from '../server/db/migrate.js';
import { openPglite } from '../server/db/pglite.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CAMERAS = arg('cameras', 300);
const pct = (s: number[], p: number) => [...s].sort((a, b) => a - b)[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
const ms = (v: number) => `${v.toFixed(1)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

const dir = await mkdtemp(join(tmpdir(), 'streeteye-bench-control-'));
const sim = await startSmallFleet(CAMERAS);
const db = await openPglite();
await migrate(db);
await db.query(`INSERT INTO users (username, password_hash, role) VALUES ('bench', $1, 'operator')`, [await hashPassword('bench-password')]);
const node = createNode({ config: loadConfig({ DATA_DIR: dir, STREETEYE_SIM_CAMERAS: '0' }), db, logger: pino({ level: 'silent' }), secretKey: randomBytes(32), bus: new Bus() },
  { skip: ['cluster', 'fleet', 'alarms', 'outbox'] });
await node.start();
const ctx = node.context;
const { app, cameras } = await buildApp(ctx);
await app.ready();
const ids: string[] = [];
for (const c of sim.cameras()) {
  const cam = await cameras.insert(db, { name: c.name, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password });
  ids.push(cam.id);
}
const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench', password: 'bench-password' } });
const cookie = `streeteye_session=${login.cookies[0].value}`;

// ---- PTZ round trips on the first dome
const dome = sim.cameras().findIndex((c) => c.ptz);
const move = async (pan: number) => {
  const t = performance.now();
  const r = await app.inject({ method: 'POST', url: `/api/cameras/${ids[dome]}/ptz/move`, headers: { cookie }, payload: { pan, tilt: 0, zoom: 0, timeoutMs: 1000 } });
  if (r.statusCode !== 204) throw new Error(`move: ${r.statusCode} ${r.body}`);
  return performance.now() - t;
};
const first = await move(0.5);
const warm: number[] = [];
for (let i = 0; i < 200; i++) warm.push(await move(i % 2 ? 0.5 : -0.5));
await app.inject({ method: 'POST', url: `/api/cameras/${ids[dome]}/ptz/stop`, headers: { cookie } });

// ---- alarm subscriptions for every camera
const watcher = new AlarmWatcher({ ...ctx, cameras }, { backoffMs: [500, 2000] });
const tSub = performance.now();
watcher.start();
while (watcher.status().filter((s) => s.state === 'subscribed').length < CAMERAS) {
  if (performance.now() - tSub > 120_000) throw new Error('subscriptions did not all come up in 2 minutes');
  await sleep(100);
}
const subscribeS = (performance.now() - tSub) / 1000;

// ---- idle cost of holding them (server and simulator share this process)
await sleep(2000);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await sleep(20_000);
const cpu = process.cpuUsage(cpu0);
const idlePct = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
const rssMb = process.memoryUsage().rss / 1024 / 1024;

// ---- alarm latency: raise and clear tamper on cameras in turn
const latencies: number[] = [];
let waiting: { cameraId: string; active: boolean; at: number; done: () => void } | null = null;
ctx.bus.subscribe((m) => {
  const p = m.payload as { cameraId?: string; active?: boolean } | undefined;
  if (m.topic === 'camera.alarm' && waiting && p?.cameraId === waiting.cameraId && p.active === waiting.active) {
    latencies.push(performance.now() - waiting.at);
    waiting.done();
  }
});
for (let i = 0; i < 60; i++) {
  const k = (i * 7) % CAMERAS;
  for (const active of [true, false]) {
    await new Promise<void>((done) => {
      waiting = { cameraId: ids[k], active, at: performance.now(), done };
      sim.setAlarm(sim.cameras()[k].id, 'tamper', active);
    });
  }
}

console.log(`\n[camera control] ${CAMERAS} simulated cameras, PGlite`);
console.log(`  PTZ move round trip   first ${ms(first)} (connect: clock, capabilities, profiles)  warm p50 ${ms(pct(warm, 50))}  p95 ${ms(pct(warm, 95))}  (goal p95 < 100 ms: ${(pct(warm, 95) / 100).toFixed(2)}x of budget)`);
console.log(`  alarm subscriptions   ${CAMERAS} up in ${subscribeS.toFixed(1)} s`);
console.log(`  holding them idle     ${idlePct.toFixed(1)} % of one core, RSS ${rssMb.toFixed(0)} MB (server + simulator in this process, ${CAMERAS} long polls)`);
console.log(`  alarm → push          p50 ${ms(pct(latencies, 50))}  p95 ${ms(pct(latencies, 95))}  over ${latencies.length} changes  (goal p95 < 1 s: ${(pct(latencies, 95) / 1000).toFixed(2)}x of budget)`);

await watcher.stop();
await app.close();
await node.stop();
await sim.stop();
await db.close();
await rm(dir, { recursive: true, force: true });
