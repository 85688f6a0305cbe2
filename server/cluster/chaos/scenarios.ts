/**
 * The fault suite (`npm run chaos`; a shorter form in server/cluster/chaos/chaos.test.ts): the production topology
 * as real processes (one API node, two ingest nodes, each ingest node's database link through a TcpProxy the suite
 * can cut) against a real PostgreSQL (a private server when the binaries are here, so it may be restarted; else
 * TEST_DATABASE_URL), simulated cameras (always-on pulls) and viewers that play through the URLs the API hands out.
 *
 * Every scenario measures: time until every camera is live again on one holder, viewer requests that failed, 110
 * incidents lost or stored twice, and double pulls (the simulator's RTSP session count above one per camera, sampled
 * every 50 ms throughout). A scenario fails on any loss, duplicate or double pull.
 */
import pg from 'pg';
import type { Simulator } from '../../../simulator/index.js';
import { startSmallFleet } from '../../../simulator/small-fleet.js';
import { adminCookie, liveCameras, scratchDatabase, selfStatus, sleep, startNode, waitFor, type NodeProcess } from '../test-harness.js';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../private-postgres.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ChaosRow {
  scenario: string;
  /** fault → every camera live again on one holder (or the burst answered), ms; null when not applicable */
  recoveredMs: number | null;
  requestsFailed: number;
  lost: number;
  duplicates: number;
  doublePulls: number;
  note: string;
}

export interface ChaosOptions {
  cameras: number;
  viewers: number;
  /** 110 posts in the burst (a fifth of them repeats of a ticket already sent) */
  burst: number;
  /** which scenarios (default: all that can run here) */
  only?: string[];
  log(m: string): void;
}

export const SCENARIOS = ['kill-ingest', 'cut-ingest-db', 'kill-api', 'postgres-restart', 'camera-flood', '110-burst'] as const;

export const NOT_COVERED = [
  'evidence/recording disk full: needs a small filesystem (tmpfs or loop device) the tests cannot mount without root',
  'clock jump on one node: needs libfaketime or CAP_SYS_TIME; leases and fencing use monotonic clocks only (lease-timing.ts)',
];

interface Topology {
  sim: Simulator;
  api: NodeProcess;
  ingest: Array<{ node: NodeProcess; proxy: TcpProxy }>;
  q: pg.Pool;
  cookie: string;
  server?: PrivatePostgres;
  drop(): Promise<void>;
}

async function start(o: ChaosOptions): Promise<Topology> {
  const server = privatePostgresAvailable() ? await startPrivatePostgres() : undefined;
  const adminUrl = server?.url ?? process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('the fault suite needs PostgreSQL: the server binaries (a private server) or TEST_DATABASE_URL');
  const db = await scratchDatabase(adminUrl);
  const q = new pg.Pool({ connectionString: db.url, max: 4 });
  q.on('error', () => {});
  const sim = await startSmallFleet(o.cameras);
  const api = await startNode({ role: 'api', databaseUrl: db.url });
  const cookie = await adminCookie(api.base);
  for (const c of sim.cameras()) {
    const res = await fetch(`${api.base}/api/cameras`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password }),
    });
    if (res.status !== 201) throw new Error(`camera: ${res.status} ${await res.text()}`);
  }
  const u = new URL(db.url);
  const ingest: Topology['ingest'] = [];
  for (let i = 0; i < 2; i++) {
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    await proxy.start();
    // lease timing at its defaults; each node can take the whole fleet (so one survivor suffices)
    const node = await startNode({ role: 'ingest', databaseUrl: proxy.url(db.url), env: { INGEST_ALWAYS_ON: '1', INGEST_IDLE_GRACE_S: '2', INGEST_CAPACITY: String(o.cameras) } });
    ingest.push({ node, proxy });
  }
  return {
    sim, api, ingest, q, cookie, server,
    async drop() {
      await Promise.all([api, ...ingest.map((x) => x.node)].map((n) => n.stop('SIGKILL').catch(() => {})));
      for (const x of ingest) await x.proxy.stop();
      await sim.stop();
      await q.end().catch(() => {});
      await db.drop().catch(() => {});
      server?.stop();
    },
  };
}

/** Who streams what now, as each node says (a node that does not answer within 3 s counts as streaming nothing). */
async function liveByNode(t: Topology): Promise<string[][]> {
  const ask = (base: string) => Promise.race([
    selfStatus(base, t.cookie).then(liveCameras),
    new Promise<string[]>((ok) => setTimeout(() => ok([]), 3000).unref()),
  ]).catch(() => [] as string[]);
  return Promise.all(t.ingest.map(({ node }) => (node.running ? ask(node.base) : Promise.resolve([]))));
}

async function allLiveOnce(t: Topology, cameras: number): Promise<boolean> {
  const live = (await liveByNode(t)).flat();
  return live.length === cameras && new Set(live).size === cameras;
}

/** The simulator's sessions above one per camera, at the worst moment (sampled every 50 ms). */
function doublePullSampler(t: Topology, cameras: number): { reset(): void; worst(): number; stop(): void } {
  let worst = 0;
  const timer = setInterval(() => { worst = Math.max(worst, t.sim.stats().sessions - cameras); }, 50);
  return { reset: () => { worst = 0; }, worst: () => worst, stop: () => clearInterval(timer) };
}

/** Viewers: each asks the API for a live URL and reloads its playlist; a failed request asks for a new URL. */
function viewers(t: Topology, n: number): { failed(): number; reset(): void; stop(): Promise<void> } {
  let failed = 0;
  let stopped = false;
  const ids = t.sim.cameras().map((c) => c.id);
  const one = async (k: number) => {
    let url: string | null = null;
    const camera = async () => (await t.q.query<{ id: string }>('SELECT id FROM cameras ORDER BY name OFFSET $1 LIMIT 1', [k % ids.length])).rows[0]?.id;
    const id = await camera();
    while (!stopped) {
      try {
        if (!url) {
          const r = await fetch(`${t.api.base}/api/cameras/${id}/live?stream=sub`, { headers: { cookie: t.cookie }, signal: AbortSignal.timeout(5000) });
          if (r.status !== 200) { failed++; await sleep(500); continue; }
          url = ((await r.json()) as { url: string }).url;
        }
        const pl = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await pl.arrayBuffer();
        if (pl.status !== 200) { failed++; url = null; await sleep(500); continue; }
      } catch {
        failed++;
        url = null;
        await sleep(500);
        continue;
      }
      await sleep(500);
    }
  };
  const running = Array.from({ length: n }, (_, k) => one(k));
  return { failed: () => failed, reset: () => { failed = 0; }, stop: async () => { stopped = true; await Promise.all(running); } };
}

/** 110 intake clients posting until stopped; each ticket is retried (on failure) until confirmed. */
function intake(t: Topology, prefix: string): { stop(): Promise<{ confirmed: Set<string>; failed: number }> } {
  const confirmed = new Set<string>();
  let failed = 0;
  let stopped = false;
  let seq = 0;
  const post = async (ticket: string) => {
    for (let attempt = 0; attempt < 600; attempt++) {
      try {
        const res = await post110(t, ticket);
        if (res === 200 || res === 201) { confirmed.add(ticket); return; }
      } catch { /* node down: retry */ }
      failed++;
      await sleep(100);
    }
  };
  const client = async () => { while (!stopped) await post(`${prefix}-${String(++seq).padStart(6, '0')}`); };
  const clients = [client(), client(), client()];
  return { stop: async () => { stopped = true; await Promise.all(clients); return { confirmed, failed }; } };
}

async function post110(t: Topology, ticket: string): Promise<number> {
  const res = await fetch(`${t.api.base}/api/110/incidents`, {
    method: 'POST', headers: { cookie: t.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ ticketNo: ticket, reportedAt: new Date().toISOString(), address: '杭州市西湖区文三路 90 号', reportText: '占道经营', categoryCode: '0901' }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Stored incidents of these tickets: lost (confirmed, not stored) and stored more than once. */
async function audit110(t: Topology, prefix: string, confirmed: Set<string>): Promise<{ lost: number; duplicates: number }> {
  const rows = (await t.q.query<{ ticket_no: string; n: number }>(
    `SELECT ticket_no, count(*)::int AS n FROM incidents_110 WHERE ticket_no LIKE $1 GROUP BY ticket_no`, [`${prefix}-%`])).rows;
  const stored = new Map(rows.map((r) => [r.ticket_no, r.n]));
  return { lost: [...confirmed].filter((x) => !stored.has(x)).length, duplicates: rows.filter((r) => r.n > 1).length };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosRow[]> {
  const t = await start(o);
  const rows: ChaosRow[] = [];
  const cams = o.cameras;
  const pulls = doublePullSampler(t, cams);
  const watch = viewers(t, o.viewers);
  const want = (s: string) => !o.only || o.only.includes(s);
  const settle = async (what: string, ms = 90_000) => waitFor(what, () => allLiveOnce(t, cams), ms, 100);
  try {
    await settle('every camera live once, before any fault');
    o.log(`topology up: api + 2 ingest nodes, ${cams} cameras live, ${o.viewers} viewers`);

    if (want('kill-ingest')) {
      const [a] = t.ingest;
      await waitFor('the first ingest node to hold cameras', async () => (await liveByNode(t))[0].length > 0, 60_000, 200);
      pulls.reset(); watch.reset();
      const t0 = Date.now();
      await a.node.stop('SIGKILL');
      await settle('every camera live on the survivor');
      const recovered = Date.now() - t0;
      rows.push({ scenario: 'SIGKILL an ingest node', recoveredMs: recovered, requestsFailed: watch.failed(), lost: 0, duplicates: 0, doublePulls: pulls.worst(), note: 'its cameras on the survivor after lease expiry' });
      await a.node.start();
      await waitFor('the restarted node to take its share back', async () => (await liveByNode(t))[0].length > 0 && allLiveOnce(t, cams), 90_000, 200);
    }

    if (want('cut-ingest-db')) {
      const [a, b] = t.ingest;
      await waitFor('both ingest nodes to hold cameras', async () => (await liveByNode(t)).every((l) => l.length > 0), 90_000, 200);
      const aHeld = (await liveByNode(t))[0].length;
      pulls.reset(); watch.reset();
      const t0 = Date.now();
      a.proxy.cut(); // A still reaches its cameras and its viewers, not the database
      // A must stop its pulls (fencing) before B may claim them: the sampler sees a double pull otherwise. A cannot
      // answer /api/cluster/self now (sessions are checked in the database): the cameras' side tells
      const fencedAt = await waitFor('the cut node to fence itself', () => (t.sim.stats().sessions <= cams - aHeld ? Date.now() : 0), 30_000, 20);
      await waitFor('every camera live on the node that still reaches PostgreSQL', async () => {
        const live = await liveByNode(t);
        return live[1].length === cams && new Set(live[1]).size === cams;
      }, 60_000, 100);
      const recovered = Date.now() - t0;
      a.proxy.heal();
      await waitFor('the healed node to rejoin', async () => (await liveByNode(t))[0].length > 0 && allLiveOnce(t, cams), 90_000, 200);
      rows.push({
        scenario: 'an ingest node cut from PostgreSQL (TCP relay black-holed)', recoveredMs: recovered, requestsFailed: watch.failed(), lost: 0, duplicates: 0,
        doublePulls: pulls.worst(), note: `it held ${aHeld}; fenced itself after ${fencedAt - t0} ms, before its rows expired; rejoined after heal`,
      });
      void b;
    }

    if (want('kill-api')) {
      pulls.reset(); watch.reset();
      const clients = intake(t, 'CK');
      await sleep(1000);
      const t0 = Date.now();
      await t.api.stop('SIGKILL');
      await sleep(500);
      await t.api.start();
      const recovered = Date.now() - t0;
      await sleep(1000);
      const { confirmed, failed } = await clients.stop();
      const { lost, duplicates } = await audit110(t, 'CK', confirmed);
      rows.push({ scenario: 'SIGKILL the API node under 110 intake', recoveredMs: recovered, requestsFailed: failed + watch.failed(), lost, duplicates, doublePulls: pulls.worst(), note: `${confirmed.size} incidents confirmed (clients retry until confirmed)` });
    }

    if (want('postgres-restart') && t.server) {
      pulls.reset(); watch.reset();
      const clients = intake(t, 'CP');
      await sleep(1000);
      const t0 = Date.now();
      t.server.restart();
      await waitFor('PostgreSQL back', async () => { await t.q.query('SELECT 1'); return true; }, 60_000, 100);
      await settle('every camera live once after the restart');
      const recovered = Date.now() - t0;
      await sleep(1000);
      const { confirmed, failed } = await clients.stop();
      const { lost, duplicates } = await audit110(t, 'CP', confirmed);
      rows.push({ scenario: 'PostgreSQL restart', recoveredMs: recovered, requestsFailed: failed + watch.failed(), lost, duplicates, doublePulls: pulls.worst(), note: `${confirmed.size} incidents confirmed across it` });
    } else if (want('postgres-restart')) {
      rows.push({ scenario: 'PostgreSQL restart', recoveredMs: null, requestsFailed: 0, lost: 0, duplicates: 0, doublePulls: 0, note: 'skipped: no private server (the shared one is not restarted)' });
    }

    if (want('camera-flood')) {
      pulls.reset(); watch.reset();
      const ids = t.sim.cameras().map((c) => c.id);
      const t0 = Date.now();
      for (const id of ids) t.sim.fault(id, { kind: 'offline' });
      await waitFor('the nodes to see the cameras down', async () => (await liveByNode(t)).flat().length === 0, 60_000, 100);
      for (const id of ids) t.sim.restore(id);
      await settle('every camera live again after the flood');
      rows.push({ scenario: `camera flood: all ${cams} cameras offline at once, then back`, recoveredMs: Date.now() - t0, requestsFailed: watch.failed(), lost: 0, duplicates: 0, doublePulls: pulls.worst(), note: 'from the fault, through the reconnect backoff' });
    }

    if (want('110-burst')) {
      const unique = Math.ceil(o.burst * 0.8);
      const tickets = Array.from({ length: o.burst }, (_, i) => `CB-${String(i < unique ? i : (i * 7919) % unique).padStart(6, '0')}`);
      let failed = 0;
      const confirmed = new Set<string>();
      const t0 = Date.now();
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < tickets.length) {
          const ticket = tickets[next++];
          for (let attempt = 0; attempt < 50; attempt++) {
            const status = await post110(t, ticket).catch(() => 0);
            if (status === 200 || status === 201) { confirmed.add(ticket); break; }
            failed++;
            await sleep(100);
          }
        }
      }));
      const { lost, duplicates } = await audit110(t, 'CB', confirmed);
      const neverConfirmed = new Set(tickets).size - confirmed.size;
      rows.push({ scenario: `110 burst: ${o.burst} posts, ${o.burst - unique} of them repeats`, recoveredMs: Date.now() - t0, requestsFailed: failed, lost: lost + neverConfirmed, duplicates, doublePulls: pulls.worst(), note: `${confirmed.size} distinct tickets stored once each` });
    }
  } finally {
    await watch.stop();
    pulls.stop();
    await t.drop();
  }
  return rows;
}

export function failures(rows: ChaosRow[]): string[] {
  return rows.filter((r) => r.lost || r.duplicates || r.doublePulls).map((r) => `${r.scenario}: lost ${r.lost}, duplicates ${r.duplicates}, double pulls ${r.doublePulls}`);
}

export function table(rows: ChaosRow[]): string {
  const head = '| scenario | recovered (ms) | requests failed | lost | duplicates | double pulls | note |\n| --- | --- | --- | --- | --- | --- | --- |';
  return [head, ...rows.map((r) => `| ${r.scenario} | ${r.recoveredMs ?? '—'} | ${r.requestsFailed} | ${r.lost} | ${r.duplicates} | ${r.doublePulls} | ${r.note} |`)].join('\n');
}
