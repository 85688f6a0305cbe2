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
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Simulator } from '../../../simulator/index.js';
import { startSmallFleet } from '../../../simulator/small-fleet.js';
import { adminCookie, liveCameras, scratchDatabase, selfStatus, sleep, startNode, waitFor, type NodeProcess } from '../test-harness.js';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../private-postgres.js';
import { TcpProxy } from './tcp-proxy.js';
import { DEFAULT_LEASE_TTL_S } from '../lease-timing.js';

export interface ChaosRow {
  scenario: string;
  /** fault → every camera live again on one holder (or the burst answered), ms; null when not applicable */
  recoveredMs: number | null;
  requestsFailed: number;
  lost: number;
  duplicates: number;
  doublePulls: number;
  /** cameras whose pull lease changed holder or lapsed while nothing should have moved (clock jump); absent elsewhere */
  moved?: number;
  note: string;
}

export interface ChaosOptions {
  cameras: number;
  viewers: number;
  /** 110 posts in the burst (a fifth of them repeats of a ticket already sent) */
  burst: number;
  /** which scenarios (default: all that can run here) */
  only?: string[];
  /** clock jump: how long each offset is held (default three lease lifetimes + 2 s) */
  jumpHoldMs?: number;
  log(m: string): void;
}

export const SCENARIOS = ['kill-ingest', 'cut-ingest-db', 'kill-api', 'postgres-restart', 'recording-disk-full', 'clock-jump', 'camera-flood', '110-burst'] as const;

/** libfaketime (Debian package faketime): a node's wall clock moved from outside while it runs. */
export function faketimeLibrary(): string | null {
  const candidates = [process.env.FAKETIME_LIB, '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

/** A private mount namespace (root and unshare(1)): a node with a small tmpfs of its own as its recordings disk. */
export function canMountPrivateTmpfs(): boolean {
  return process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
}

/** What this machine cannot do, said in the output rather than silently skipped. */
export function notCovered(): string[] {
  const out: string[] = [];
  if (!canMountPrivateTmpfs()) out.push('recording disk full: needs root and unshare(1) for a private tmpfs (skipped)');
  if (!faketimeLibrary()) out.push('clock jump on one node: needs libfaketime (apt-get install faketime; or FAKETIME_LIB) (skipped)');
  if (!privatePostgresAvailable()) out.push('PostgreSQL restart: needs the server binaries for a private server; the shared one is not restarted (skipped)');
  out.push('network cut: a TCP relay black-holes the node\'s database link (tcp-proxy.ts), not a network namespace');
  return out;
}

/** Recordings disk of the first ingest node, when it has a private tmpfs (ample; the scenario fills it). */
const REC_TMPFS = '48m';
/** The clock jumps: forward then backward, larger than any lease, heartbeat or fencing period, within a live URL's life. */
const JUMPS_S = [+900, -900];

interface Topology {
  sim: Simulator;
  api: NodeProcess;
  /** [0]: recordings on a private tmpfs when possible (recDir, as the node sees it); [1]: clock file when libfaketime is here */
  ingest: Array<{ node: NodeProcess; proxy: TcpProxy; recDir: string; tmpfs: boolean; clockFile?: string }>;
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
  const faketime = faketimeLibrary();
  for (let i = 0; i < 2; i++) {
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    await proxy.start();
    const recDir = await mkdtemp(join(tmpdir(), `streeteye-chaos-rec${i}-`));
    const env: Record<string, string> = {
      INGEST_ALWAYS_ON: '1', INGEST_IDLE_GRACE_S: '2', INGEST_CAPACITY: String(o.cameras),
      // recordings (only the cameras the disk-full scenario records): short segments, quick retries, the real ENOSPC
      RECORDINGS_DIR: recDir, RECORDINGS_NODE_ID: `chaos-ingest-${i}`, RECORDING_SEGMENT_S: '4', RECORDING_SYNC_S: '0.5', RECORDING_RETRY_S: '1', RECORDINGS_MIN_FREE_MB: '0',
    };
    // node 0: its recordings folder a small tmpfs in a mount namespace of its own (a restart gets a fresh one)
    const tmpfs = i === 0 && canMountPrivateTmpfs();
    const wrap = tmpfs ? ['unshare', '-m', 'sh', '-c', `mount -t tmpfs -o size=${REC_TMPFS} tmpfs "$RECORDINGS_DIR" && exec "$@"`, 'sh'] : undefined;
    // node 1: its wall clock under libfaketime, offset read from a file the clock-jump scenario rewrites (the monotonic
    // clock is left alone, as an NTP step or an operator's date(1) leaves it)
    let clockFile: string | undefined;
    if (i === 1 && faketime) {
      clockFile = join(recDir, '..', `streeteye-chaos-clock-${process.pid}`);
      await writeFile(clockFile, '+0\n');
      Object.assign(env, { LD_PRELOAD: faketime, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_CACHE_DURATION: '1' });
    }
    // lease timing at its defaults; each node can take the whole fleet (so one survivor suffices)
    const node = await startNode({ role: 'ingest', databaseUrl: proxy.url(db.url), env, wrap });
    ingest.push({ node, proxy, recDir, tmpfs, clockFile });
  }
  return {
    sim, api, ingest, q, cookie, server,
    async drop() {
      await Promise.all([api, ...ingest.map((x) => x.node)].map((n) => n.stop('SIGKILL').catch(() => {})));
      for (const x of ingest) {
        await x.proxy.stop();
        await rm(x.recDir, { recursive: true, force: true }).catch(() => {});
        if (x.clockFile) await unlink(x.clockFile).catch(() => {});
      }
      await sim.stop();
      await q.end().catch(() => {});
      await db.drop().catch(() => {});
      server?.stop();
    },
  };
}

/** What one node says it streams now (nothing when it does not answer within 3 s). */
async function liveOn(t: Topology, node: NodeProcess): Promise<string[]> {
  if (!node.running) return [];
  return Promise.race([
    selfStatus(node.base, t.cookie).then(liveCameras),
    new Promise<string[]>((ok) => setTimeout(() => ok([]), 3000).unref()),
  ]).catch(() => [] as string[]);
}

/** Who streams what now, as each node says (a node that does not answer within 3 s counts as streaming nothing). */
async function liveByNode(t: Topology): Promise<string[][]> {
  return Promise.all(t.ingest.map(({ node }) => liveOn(t, node)));
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
      const aId = (await selfStatus(a.node.base, t.cookie)).id;
      pulls.reset(); watch.reset();
      const t0 = Date.now();
      a.proxy.cut(); // A still reaches its cameras and its viewers, not the database
      // A must stop its pulls (fencing) before B may claim them: the sampler sees a double pull otherwise. A cannot
      // answer /api/cluster/self now (sessions are checked in the database): the cameras' side tells
      const fencedAt = await waitFor('the cut node to fence itself', () => (t.sim.stats().sessions <= cams - aHeld ? Date.now() : 0), 30_000, 20);
      // when the database gave the other node every lease (PostgreSQL's view), then when it had them all live
      // (only B is asked: the cut node cannot answer, and waiting out its timeout would make the figure coarse)
      let claimedAt = 0;
      await waitFor('every camera live on the node that still reaches PostgreSQL', async () => {
        if (!claimedAt) {
          const h = await holders(t);
          if (h.size === cams && [...h.values()].every((n) => n !== aId)) claimedAt = Date.now();
        }
        const live = await liveOn(t, b.node);
        return live.length === cams && new Set(live).size === cams;
      }, 60_000, 100);
      const recovered = Date.now() - t0;
      a.proxy.heal();
      await waitFor('the healed node to rejoin', async () => (await liveByNode(t))[0].length > 0 && allLiveOnce(t, cams), 90_000, 200);
      rows.push({
        scenario: 'an ingest node cut from PostgreSQL (TCP relay black-holed)', recoveredMs: recovered, requestsFailed: watch.failed(), lost: 0, duplicates: 0,
        doublePulls: pulls.worst(), note: `it held ${aHeld}; fenced itself after ${fencedAt - t0} ms, before its rows expired; the other node held every lease after ${claimedAt ? claimedAt - t0 : '?'} ms; rejoined after heal`,
      });
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

    if (want('recording-disk-full') && t.ingest[0].tmpfs) {
      const [a] = t.ingest;
      await waitFor('the first ingest node to hold cameras', async () => (await liveByNode(t))[0].length > 0, 90_000, 200);
      const recorded = (await liveByNode(t))[0].slice(0, 3);
      await setRecording(t, recorded, 'continuous');
      // the node's own view of its disk: its mount namespace, through /proc/PID/root
      const dir = `/proc/${a.node.pid}/root${a.recDir}`;
      await waitFor('recording files on the node\'s tmpfs', async () => (await mp4Files(dir)).length >= recorded.length, 90_000, 300);
      pulls.reset(); watch.reset();
      const t0 = Date.now();
      const fill = join(dir, 'chaos-fill');
      const filled = await fillDisk(fill);
      const alarmedMs = await waitFor('a recording alarm on every recorded camera', async () => ((await recordingAlarms(t, recorded)) === recorded.length ? Date.now() - t0 : 0), 60_000, 100);
      await sleep(3000); // the disk stays full a while: live video goes on meanwhile
      const liveWhileFull = (await liveByNode(t)).flat().length;
      const t1 = Date.now();
      await unlink(fill);
      await waitFor('recording to resume (alarms cleared)', async () => (await recordingAlarms(t, recorded)) === 0, 60_000, 100);
      const resumedMs = Date.now() - t1;
      await sleep(5000); // a whole segment written after the disk came back
      await setRecording(t, recorded, 'off');
      await waitFor('the recorded cameras\' segments closed', async () => (await t.q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM recording_segments WHERE camera_id = ANY($1::uuid[]) AND status = 'open'`, [recorded])).rows[0].n === 0, 30_000, 300);
      const index = await checkSegments(t, recorded, dir);
      rows.push({
        scenario: 'recording disk full on an ingest node (its tmpfs filled, then freed)', recoveredMs: resumedMs, requestsFailed: watch.failed(),
        lost: index.broken, duplicates: 0, doublePulls: pulls.worst(),
        note: `${recorded.length} cameras recording; ${(filled / 1048576).toFixed(0)} MB filled; alarm on each after ${alarmedMs} ms; ${liveWhileFull}/${cams} live while full; recovered = freed → alarms cleared; ${index.segments} segments, ${index.broken} with a missing or short file`,
      });
    } else if (want('recording-disk-full')) {
      rows.push({ scenario: 'recording disk full', recoveredMs: null, requestsFailed: 0, lost: 0, duplicates: 0, doublePulls: 0, note: 'skipped: no private mount namespace (root and unshare(1))' });
    }

    if (want('clock-jump') && t.ingest[1].clockFile) {
      const b = t.ingest[1];
      await waitFor('both ingest nodes to hold cameras', async () => (await liveByNode(t)).every((l) => l.length > 0), 90_000, 200);
      await settle('every camera live once before the jump');
      const before = await holders(t);
      pulls.reset(); watch.reset();
      // sampled throughout: a camera whose lease moved or lapsed, and the jumped node's cameras that left 'live'
      const moved = new Set<string>();
      const notLive = new Set<string>();
      let sampling = true;
      const bIds = new Set((await liveByNode(t))[1]);
      const sampler = (async () => {
        while (sampling) {
          const now = await holders(t).catch(() => null);
          if (now) for (const [cam, node] of before) if (now.get(cam) !== node) moved.add(cam);
          const live = await liveByNode(t);
          for (const id of bIds) if (!live[1].includes(id)) notLive.add(id);
          await sleep(200);
        }
      })();
      const hold = o.jumpHoldMs ?? 3 * DEFAULT_LEASE_TTL_S * 1000 + 2000; // lease lifetimes at each offset
      const seen: number[] = [];
      for (const jump of JUMPS_S) {
        await writeFile(b.clockFile!, `${jump >= 0 ? '+' : ''}${jump}\n`);
        // the node's own clock, as its HTTP Date header says: the jump must really have happened there
        seen.push(await waitFor(`the node's clock ${jump} s off`, async () => {
          const off = await clockOffsetS(b.node.base);
          return Math.abs(off - jump) < 5 ? off : 0;
        }, 10_000, 200));
        await sleep(hold);
      }
      await writeFile(b.clockFile!, '+0\n');
      await sleep(hold);
      sampling = false;
      await sampler;
      rows.push({
        scenario: `clock jump on an ingest node: wall clock ${JUMPS_S.map((j) => `${j > 0 ? '+' : '−'}${Math.abs(j) / 60} min`).join(', then ')}, then back`,
        recoveredMs: null, requestsFailed: watch.failed(), lost: 0, duplicates: 0, doublePulls: pulls.worst(), moved: moved.size,
        note: `its clock read ${seen.map((x) => `${x > 0 ? '+' : ''}${x} s`).join(', then ')} (HTTP Date); ${bIds.size} cameras on it, ${notLive.size} of them left 'live' meanwhile; ${moved.size} leases moved`,
      });
    } else if (want('clock-jump')) {
      rows.push({ scenario: 'clock jump on an ingest node', recoveredMs: null, requestsFailed: 0, lost: 0, duplicates: 0, doublePulls: 0, note: 'skipped: no libfaketime (apt-get install faketime)' });
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

async function setRecording(t: Topology, ids: string[], mode: 'continuous' | 'off'): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`${t.api.base}/api/cameras/${id}/recording`, {
      method: 'PUT', headers: { cookie: t.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ mode, stream: 'sub' }),
    });
    if (res.status !== 200) throw new Error(`recording settings: ${res.status} ${await res.text()}`);
  }
}

async function mp4Files(dir: string, rel = ''): Promise<Array<{ file: string; bytes: number }>> {
  const out: Array<{ file: string; bytes: number }> = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true }).catch(() => [])) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await mp4Files(dir, r)));
    else if (e.name.endsWith('.mp4')) out.push({ file: r, bytes: (await stat(join(dir, r))).size });
  }
  return out;
}

/** Writes 1 MB at a time until the filesystem says ENOSPC (a real full disk); returns the bytes written. */
async function fillDisk(file: string): Promise<number> {
  const mb = Buffer.alloc(1 << 20, 0x5a);
  let written = 0;
  for (;;) {
    try {
      await appendFile(file, mb);
      written += mb.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return written;
      throw err;
    }
  }
}

async function recordingAlarms(t: Topology, ids: string[]): Promise<number> {
  return (await t.q.query<{ n: number }>(
    `SELECT count(DISTINCT camera_id)::int AS n FROM camera_alarms WHERE topic = 'streeteye/RecordingFailed' AND ended_at IS NULL AND camera_id = ANY($1::uuid[])`, [ids])).rows[0].n;
}

/** The index against the files: segments of these cameras on the tmpfs node whose file is missing or shorter than the row. */
async function checkSegments(t: Topology, ids: string[], dir: string): Promise<{ segments: number; broken: number }> {
  const rows = (await t.q.query<{ file: string; bytes: string }>(
    `SELECT file, bytes FROM recording_segments WHERE camera_id = ANY($1::uuid[]) AND node_id = 'chaos-ingest-0'`, [ids])).rows;
  const files = new Map((await mp4Files(dir)).map((f) => [f.file, f.bytes]));
  return { segments: rows.length, broken: rows.filter((r) => (files.get(r.file) ?? -1) < Number(r.bytes)).length };
}

/** How far the node's wall clock is from ours, in whole seconds (its HTTP Date header). */
async function clockOffsetS(base: string): Promise<number> {
  const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(3000) });
  await res.arrayBuffer();
  return Math.round((Date.parse(res.headers.get('date') ?? '') - Date.now()) / 1000);
}

/** camera → node holding its unexpired pull lease, on PostgreSQL's clock. */
async function holders(t: Topology): Promise<Map<string, string>> {
  const rows = (await t.q.query<{ camera_id: string; node_id: string }>(`SELECT camera_id, node_id FROM camera_leases WHERE kind = 'ingest' AND expires_at > now()`)).rows;
  return new Map(rows.map((r) => [r.camera_id, r.node_id]));
}

export function failures(rows: ChaosRow[]): string[] {
  return rows.filter((r) => r.lost || r.duplicates || r.doublePulls || r.moved)
    .map((r) => `${r.scenario}: lost ${r.lost}, duplicates ${r.duplicates}, double pulls ${r.doublePulls}${r.moved ? `, leases moved ${r.moved}` : ''}`);
}

export function table(rows: ChaosRow[]): string {
  const head = '| scenario | recovered (ms) | requests failed | lost | duplicates | double pulls | leases moved | note |\n| --- | --- | --- | --- | --- | --- | --- | --- |';
  return [head, ...rows.map((r) => `| ${r.scenario} | ${r.recoveredMs ?? '—'} | ${r.requestsFailed} | ${r.lost} | ${r.duplicates} | ${r.doublePulls} | ${r.moved ?? '—'} | ${r.note} |`)].join('\n');
}
