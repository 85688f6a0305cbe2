/**
 * npm run soak -- --minutes N [--cameras 100] [--viewers 16] [--rules 4] [--fault-every 15] [--ingest 2]
 *
 * The production topology as processes on this machine, against PostgreSQL (DATABASE_URL or TEST_DATABASE_URL; a
 * scratch database is created and dropped): 1 api node, 2 ingest nodes (always-on), 1 analytics node (engine on,
 * foreground rules on a few cameras), a simulated fleet of 100 cameras (small pictures), 16 viewers fetching LL-HLS
 * through the URLs the API hands out, 110 incidents posted every few seconds, a random camera fault every 15 s
 * (offline / stall / drop for 8 s, then restored).
 *
 * Prints per process: RSS and CPU in the first and the last quarter of the run (drift), sessions lost/recovered
 * (a faulted camera live again after its fault, every leased camera live at the end), events raised/lost (incidents
 * and analytics candidates raised on one node vs seen on a console connected to the API node). Goal: flat memory,
 * 0 lost. Numbers only; exit code 1 when something was lost.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import pg from 'pg';
import WebSocket from 'ws';
import type { SimFault } from '../simulator/index.js';
import { startSmallFleet } from '../simulator/small-fleet.js';
import {
  adminCookie, liveCameras, scratchDatabase, selfStatus, sleep, startNode, waitFor, type NodeProcess,
} from '../server/cluster/test-harness.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    cameras: { type: 'string', default: '100' },
    viewers: { type: 'string', default: '16' },
    rules: { type: 'string', default: '4' },
    'fault-every': { type: 'string', default: '15' },
    ingest: { type: 'string', default: '2' },
  },
});
const MINUTES = Number(values.minutes);
const CAMERAS = Number(values.cameras);
const VIEWERS = Number(values.viewers);
const RULES = Math.min(Number(values.rules), CAMERAS);
const FAULT_EVERY_S = Number(values['fault-every']);
const INGEST = Number(values.ingest);
const adminUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
if (!adminUrl || !(MINUTES > 0)) {
  process.stderr.write('usage: DATABASE_URL=postgres://… npm run soak -- --minutes N   (a PostgreSQL the soak may create a scratch database on)\n');
  process.exit(2);
}

const log = (m: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

interface Sample { at: number; rss: number; cpu: number; n?: number }

/** RSS (bytes) and CPU (µs) of a node's children (ffmpeg remuxers and decoders), from ps. */
async function childrenOf(pid: number): Promise<{ rss: number; cpu: number; n: number }> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'rss=,times=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  let rss = 0; let cpu = 0; let n = 0;
  for (const line of stdout.trim().split('\n')) {
    const [r, t] = line.trim().split(/\s+/);
    if (!r) continue;
    rss += Number(r) * 1024; cpu += Number(t) * 1e6; n++;
  }
  return { rss, cpu, n };
}

async function main(): Promise<void> {
  const db = await scratchDatabase(adminUrl!);
  const q = new pg.Pool({ connectionString: db.url, max: 2 });
  q.on('error', () => {});
  const nodes: Array<{ name: string; node: NodeProcess }> = [];
  let exit = 0;
  try {
    const sim = await startSmallFleet(CAMERAS);
    const common = { LEASE_TTL_S: '6', LOG_LEVEL: 'error' };
    const api = await startNode({ role: 'api', databaseUrl: db.url, env: common });
    nodes.push({ name: 'api', node: api });
    const cookie = await adminCookie(api.base);
    // a console on the API node from the start: what reaches it from every node
    const seen = { incidents: new Set<string>(), candidates: new Set<string>(), cameraState: 0 };
    const ws = new WebSocket(`${api.base.replace('http', 'ws')}/api/ws`, { headers: { cookie } });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { topic: string; payload: { ticketNo?: string; id?: string; event?: { id?: string } } };
      if (m.topic === 'incident.created' && m.payload.ticketNo) seen.incidents.add(m.payload.ticketNo);
      if (m.topic === 'event.candidate') seen.candidates.add(m.payload.id ?? m.payload.event?.id ?? '');
      if (m.topic === 'camera.state') seen.cameraState++;
    });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const ids: string[] = [];
    for (const c of sim.cameras()) {
      const res = await fetch(`${api.base}/api/cameras`, {
        method: 'POST', headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password }),
      });
      if (res.status !== 201) throw new Error(`camera registration: ${res.status} ${await res.text()}`);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const simIdOf = new Map(ids.map((id, i) => [id, sim.cameras()[i].id]));
    // analytics rules (class-agnostic foreground: no model weights needed) on the first cameras
    for (const id of ids.slice(0, RULES)) {
      await q.query(`INSERT INTO rules (camera_id, event_type, zone, detector, min_dwell_seconds, cooldown_seconds)
                     VALUES ($1, 'fire_lane_blocked', '[[0.1,0.1],[0.9,0.1],[0.9,0.9],[0.1,0.9]]', 'foreground', 5, 30)`, [id]);
    }
    const analytics = await startNode({ role: 'analytics', databaseUrl: db.url, env: { ...common, ANALYTICS_ENABLED: '1', ANALYTICS_CAPACITY: String(RULES) } });
    nodes.push({ name: 'analytics', node: analytics });
    for (let i = 0; i < INGEST; i++) {
      // an even split with 10% headroom (balancing spreads the fleet by capacity; headroom absorbs a dead node's part)
      const capacity = Math.ceil(((CAMERAS - RULES) / INGEST) * 1.1);
      const n = await startNode({ role: 'ingest', databaseUrl: db.url, env: { ...common, INGEST_ALWAYS_ON: '1', INGEST_CAPACITY: String(capacity) } });
      nodes.push({ name: `ingest-${i + 1}`, node: n });
    }
    const pullers = nodes.filter((n) => n.name !== 'api');
    const liveEverywhere = async () => {
      const all = await Promise.all(pullers.map((n) => selfStatus(n.node.base, cookie)));
      return { live: new Set(all.flatMap(liveCameras)), leased: new Set(all.flatMap((s) => s.leased)) };
    };
    log(`${nodes.length} nodes up; waiting for ${CAMERAS} cameras live`);
    await waitFor(`${CAMERAS} cameras live`, async () => (await liveEverywhere()).live.size >= CAMERAS, 180_000, 1000);
    log(`all ${CAMERAS} cameras live; soaking ${MINUTES} min with ${VIEWERS} viewers, faults every ${FAULT_EVERY_S} s`);


    const end = Date.now() + MINUTES * 60_000;
    const samples = new Map<string, Sample[]>(nodes.flatMap((n) => [[n.name, []], [`  children (${n.name})`, []]] as Array<[string, Sample[]]>));
    samples.set('soak+simulator', []);
    const stop = { v: false };
    const tasks: Promise<void>[] = [];

    // resource samples every 5 s
    tasks.push((async () => {
      while (!stop.v) {
        for (const n of nodes) {
          const s = await selfStatus(n.node.base, cookie).catch(() => null);
          if (s) samples.get(n.name)!.push({ at: Date.now(), rss: s.rssBytes, cpu: s.cpuMicros });
          const c = await childrenOf(n.node.pid!);
          samples.get(`  children (${n.name})`)!.push({ at: Date.now(), ...c });
        }
        const cpu = process.cpuUsage();
        samples.get('soak+simulator')!.push({ at: Date.now(), rss: process.memoryUsage.rss(), cpu: cpu.user + cpu.system });
        await sleep(5000);
      }
    })());

    // viewers: a signed URL from the API, then the playlist and its newest part every second; a new camera each minute
    const viewerStats = { requests: 0, failures: 0, reconnects: 0 };
    for (let v = 0; v < VIEWERS; v++) {
      tasks.push((async () => {
        let url: string | null = null;
        let cam = ids[(v * 7) % ids.length];
        let since = Date.now();
        while (!stop.v) {
          try {
            if (!url || Date.now() - since > 60_000) {
              if (Date.now() - since > 60_000) { cam = ids[Math.floor(Math.random() * ids.length)]; since = Date.now(); }
              const r = await fetch(`${api.base}/api/cameras/${cam}/live?stream=sub`, { headers: { cookie } });
              if (!r.ok) throw new Error(`live ${r.status}`);
              url = ((await r.json()) as { url: string }).url;
            }
            const pl = await fetch(url, { signal: AbortSignal.timeout(15_000) });
            viewerStats.requests++;
            if (!pl.ok) throw new Error(`playlist ${pl.status}`);
            const text = await pl.text();
            const last = text.split('\n').filter((l) => l && !l.startsWith('#')).pop();
            if (last) {
              const media = await fetch(new URL(last, pl.url), { signal: AbortSignal.timeout(15_000) });
              await media.arrayBuffer();
              viewerStats.requests++;
            }
          } catch {
            viewerStats.failures++;
            if (url) viewerStats.reconnects++;
            url = null;
          }
          await sleep(1000);
        }
      })());
    }

    // 110 incidents: one every 2 s through the API
    const raised = { incidents: new Set<string>() };
    tasks.push((async () => {
      let n = 0;
      while (!stop.v) {
        const ticket = `SOAK-${String(++n).padStart(6, '0')}`;
        const r = await fetch(`${api.base}/api/110/incidents`, {
          method: 'POST', headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ ticketNo: ticket, reportedAt: new Date().toISOString(), address: '杭州市西湖区文三路 90 号', reportText: '占道经营', categoryCode: '0901' }),
        }).catch(() => null);
        if (r?.status === 201) raised.incidents.add(ticket);
        await sleep(2000);
      }
    })());

    // random camera faults; each faulted camera must be live again after its restore
    const faults = { injected: 0, recovered: 0, lost: [] as string[] };
    const kinds: SimFault[] = [{ kind: 'offline' }, { kind: 'stall' }, { kind: 'drop', afterMs: 0 }];
    tasks.push((async () => {
      while (!stop.v) {
        await sleep(FAULT_EVERY_S * 1000);
        if (stop.v || Date.now() > end - 60_000) continue; // leave time to recover before the end
        const id = ids[RULES + Math.floor(Math.random() * (ids.length - RULES))];
        const fault = kinds[Math.floor(Math.random() * kinds.length)];
        sim.fault(simIdOf.get(id)!, fault);
        faults.injected++;
        await sleep(8000);
        sim.restore(simIdOf.get(id)!);
        const ok = await waitFor('faulted camera live again', async () => (await liveEverywhere()).live.has(id), 60_000, 500).then(() => true, () => false);
        if (ok) faults.recovered++;
        else faults.lost.push(`${id} (${fault.kind})`);
      }
    })());

    while (Date.now() < end) {
      await sleep(Math.min(30_000, end - Date.now()));
      const s = await liveEverywhere().catch(() => null);
      log(`live ${s?.live.size ?? '?'} / leased ${s?.leased.size ?? '?'}; sim RTSP sessions ${sim.stats().sessions}; viewers ${viewerStats.requests} req, ${viewerStats.failures} failed; faults ${faults.injected} (${faults.recovered} recovered)`);
    }
    stop.v = true;
    await Promise.all(tasks);

    // final state
    const final = await liveEverywhere();
    const notLive = [...final.leased].filter((id) => !final.live.has(id));
    const unleased = ids.filter((id) => !final.leased.has(id));
    const candidates = (await q.query<{ id: string }>('SELECT id FROM events WHERE rule_id IS NOT NULL')).rows.map((r) => r.id);
    await sleep(3000); // pushes of the candidates just counted may still be in flight
    ws.close();
    const incidentsLost = [...raised.incidents].filter((t) => !seen.incidents.has(t));
    const candidatesLost = candidates.filter((id) => !seen.candidates.has(id));
    const stored = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents_110 WHERE ticket_no LIKE 'SOAK-%'`)).rows[0].n;

    process.stdout.write(`\n== soak: ${MINUTES} min, ${CAMERAS} cameras, ${VIEWERS} viewers, ${RULES} cameras with analytics rules, ${nodes.length} nodes ==\n`);
    process.stdout.write('process (first 30 s skipped)  RSS first¼ → last¼ (MB)   drift MB/h   CPU % first¼ → last¼ (of one core)\n');
    for (const [name, all] of samples) {
      const ss = all.filter((x) => x.at - all[0].at >= 30_000);
      if (ss.length < 4) continue;
      if (name.includes('children') && !ss.some((x) => x.n)) continue;
      const k = Math.max(1, Math.floor(ss.length / 4));
      const first = ss.slice(0, k);
      const last = ss.slice(-k);
      const avg = (xs: Sample[]) => xs.reduce((s, x) => s + x.rss, 0) / xs.length / 2 ** 20;
      const cpuPct = (xs: Sample[]) => xs.length > 1 ? (100 * (xs[xs.length - 1].cpu - xs[0].cpu) / 1000) / (xs[xs.length - 1].at - xs[0].at) : NaN;
      const hours = (last[last.length - 1].at - first[0].at) / 3_600_000 || 1;
      const procs = ss[ss.length - 1].n !== undefined ? ` ×${ss[ss.length - 1].n}` : '';
      // children (ffmpeg remuxers/decoders, tsx's esbuild) come and go: cumulative CPU of live ones is no rate; RSS only
      const cpuCol = name.includes('children') ? '' : `${cpuPct(first).toFixed(1).padStart(5)} → ${cpuPct(last).toFixed(1)}`;
      process.stdout.write(`${(name + procs).padEnd(29)} ${avg(first).toFixed(0).padStart(6)} → ${avg(last).toFixed(0).padEnd(6)}            ${((avg(last) - avg(first)) / hours).toFixed(1).padStart(7)}      ${cpuCol}\n`);
    }
    process.stdout.write(`sessions: faults injected ${faults.injected}, recovered ${faults.recovered}, lost ${faults.lost.length}${faults.lost.length ? ` (${faults.lost.join(', ')})` : ''}; `
      + `at the end ${final.live.size}/${CAMERAS} live, ${notLive.length} leased but not live, ${unleased.length} unleased\n`);
    process.stdout.write(`viewers: ${viewerStats.requests} requests, ${viewerStats.failures} failed, ${viewerStats.reconnects} re-asked for a URL\n`);
    process.stdout.write(`events: incidents raised ${raised.incidents.size}, stored ${stored}, seen on the console ${raised.incidents.size - incidentsLost.length}, lost ${incidentsLost.length}; `
      + `analytics candidates raised ${candidates.length}, lost ${candidatesLost.length}; camera.state pushes seen ${seen.cameraState}\n`);
    const lost = faults.lost.length + notLive.length + unleased.length + incidentsLost.length + candidatesLost.length + (raised.incidents.size - stored);
    process.stdout.write(lost === 0 ? 'result: 0 lost\n' : `result: ${lost} lost\n`);
    exit = lost === 0 ? 0 : 1;
    await sim.stop();
  } finally {
    await Promise.all(nodes.map((n) => n.node.stop('SIGTERM').catch(() => {})));
    await q.end().catch(() => {});
    await db.drop().catch(() => {});
  }
  process.exit(exit);
}

main().catch((err) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
