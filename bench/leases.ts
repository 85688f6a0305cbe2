/**
 * Lease fencing margins at the default timing (server/cluster/lease-timing.ts): how long an event-loop stall a node
 * rides out without dropping its cameras (lease flapping), and where it fences itself. One node holds 20 cameras;
 * the event loop is blocked for a given time at a random point of the renewal cycle, several times per length; a
 * trial "flaps" when any camera is lost. PGlite always; PostgreSQL too when TEST_DATABASE_URL is set.
 * Goal: no flap for stalls up to the computed tolerance (TTL − margin − interval, ~2 s at the defaults); beyond
 * the TTL every trial must fence (a node whose rows may have expired must stop pulling).
 */
import type { Db } from '../server/db/db.js';
import { migrate } from '../server/db/migrate.js';
import { openPglite } from '../server/db/pglite.js';
import { withScratchPostgres } from './scratch-postgres.js';
import { CameraLeases } from '../server/cluster/camera-leases.js';
import { DEFAULT_LEASE_TTL_S, leaseTiming } from '../server/cluster/lease-timing.js';

const TRIALS = Number(process.env.BENCH_LEASE_TRIALS ?? 3);
const quiet = { info() {}, warn() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const block = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end) { /* blocked */ } };

async function run(label: string, db: Db): Promise<void> {
  await migrate(db);
  for (let i = 0; i < 20; i++) await db.query('INSERT INTO cameras (name) VALUES ($1)', [`bench cam ${i}`]);
  const t = leaseTiming(DEFAULT_LEASE_TTL_S * 1000);
  console.log(`\n[${label}] TTL ${t.ttlMs} ms, renewal every ${t.intervalMs} ms, fence margin ${t.marginMs} ms, heartbeat ${t.heartbeatMs} ms`);
  console.log(`  computed stall tolerance (TTL − margin − interval): ${t.stallToleranceMs} ms; worst takeover ≈ TTL + interval + session start = ${t.ttlMs + t.intervalMs} ms + start`);
  const rtt: number[] = [];
  for (let i = 0; i < 20; i++) { const s = performance.now(); await db.query('SELECT 1'); rtt.push(performance.now() - s); }
  rtt.sort((a, b) => a - b);
  console.log(`  database round trip p50 ${rtt[10].toFixed(1)} ms, max ${rtt[19].toFixed(1)} ms`);
  const node = new CameraLeases({ db, nodeId: `bench-${process.pid}`, kind: 'ingest', capacity: 20, logger: quiet });
  let lost = 0;
  node.on('lost', () => lost++);
  await node.start();
  let largestRidden = 0;
  for (const stall of [250, 500, 1000, 1500, 1750, 2000, 2250, 2500, 3000, 3500]) {
    let flaps = 0;
    for (let i = 0; i < TRIALS; i++) {
      await sleep(1500 + Math.random() * t.intervalMs); // settled, at a random phase of the cycle
      lost = 0;
      block(stall);
      await sleep(t.intervalMs * 3);
      if (lost > 0) flaps++;
      await sleep(t.ttlMs); // re-acquired (after a fence) before the next trial
    }
    if (flaps === 0) largestRidden = stall;
    const expect = stall <= t.stallToleranceMs - 100 ? 'must ride out' : stall > t.ttlMs ? 'must fence' : 'either';
    console.log(`  stall ${String(stall).padStart(4)} ms: ${flaps}/${TRIALS} trials dropped cameras  (${expect})`);
  }
  await node.stop();
  console.log(`  largest stall ridden out in every trial: ${largestRidden} ms (goal ≥ ${t.stallToleranceMs - 100} ms: ${(largestRidden / (t.stallToleranceMs - 100)).toFixed(2)}x)`);
}

const lite = await openPglite();
await run('PGlite', lite);
await lite.close();
const url = process.env.TEST_DATABASE_URL;
if (url) {
  await withScratchPostgres(url, 'streeteye_bench_leases', (db) => run('PostgreSQL', db));
}
