import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator, SimCameraInfo } from '../../simulator/index.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { Bus, type BusMessage, type BusTopics } from '../bus.js';
import { ScanManager } from './scan-manager.js';

// One small simulator for the whole file: 3 cameras, tiny pictures (one shared encode, ~1 s cold).
let sim: Simulator;
let cams: SimCameraInfo[];
let simHttpPort: number;
/** An ONVIF device service whose clock is 90 s fast (GetSystemDateAndTime only). */
let skewed: Server;
let skewedUrl: string;
/** Accepts TCP connections and never answers (a scan target that takes its full timeout). */
let blackhole: TcpServer;
let blackholePort: number;
const held = new Set<Socket>();

beforeAll(async () => {
  sim = await startSmallFleet(3);
  cams = sim.cameras();
  simHttpPort = Number(new URL(cams[0].onvifUrl).port);
  skewed = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const d = new Date(Date.now() + 90_000);
      const p = (n: number) => String(n);
      res.writeHead(200, { 'content-type': 'application/soap+xml' }).end(
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>'
        + '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>'
        + `<tt:UTCDateTime><tt:Time><tt:Hour>${p(d.getUTCHours())}</tt:Hour><tt:Minute>${p(d.getUTCMinutes())}</tt:Minute><tt:Second>${p(d.getUTCSeconds())}</tt:Second></tt:Time>`
        + `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime>`
        + '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></s:Body></s:Envelope>');
    });
  });
  await new Promise<void>((r) => skewed.listen(0, '127.0.0.1', r));
  skewedUrl = `http://127.0.0.1:${(skewed.address() as { port: number }).port}/onvif/device_service`;
  blackhole = createTcpServer((s) => { held.add(s); s.on('close', () => held.delete(s)); s.on('error', () => {}); });
  await new Promise<void>((r) => blackhole.listen(0, '0.0.0.0', r));
  blackholePort = (blackhole.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => blackhole?.close(r));
  await new Promise((r) => skewed?.close(r));
  await sim?.stop();
});

describe('multicast discovery', () => {
  it('answers with devices or a clear reason instead of hanging', async () => {
    const bus = new Bus();
    const events: BusMessage[] = [];
    bus.subscribe((m) => events.push(m));
    const scans = new ScanManager({ bus, logger: pino({ level: 'silent' }), multicastTimeoutMs: 1000 });
    const t0 = Date.now();
    const started = scans.start({ mode: 'multicast' }, 'technician');
    const scan = (await scans.wait(started.id))!;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(['done', 'failed']).toContain(scan.state);
    if (scan.state === 'failed') expect(scan.message).toMatch(/multicast WS-Discovery is not possible on this network/);
    if (scan.state === 'done' && scan.results.length === 0) expect(scan.message).toMatch(/no device answered the multicast probe/);
    expect(events.at(-1)).toMatchObject({ topic: 'discovery.progress', payload: { scanId: scan.id, state: scan.state } });
  });
});

describe('WS-Discovery responders known to the server', () => {
  it('a multicast scan also asks them: every device once, with its scope name and endpoint', async () => {
    const scans = new ScanManager({ bus: new Bus(), logger: pino({ level: 'silent' }), multicastTimeoutMs: 1000 });
    scans.registerResponder({ host: '127.0.0.1', port: sim.discoveryPort, label: 'sim' });
    const forget = scans.registerResponder({ host: '127.0.0.1', port: sim.discoveryPort, label: 'sim (again)' });
    const scan = (await scans.wait(scans.start({ mode: 'multicast' }, 'technician').id))!;
    expect(scan.state).toBe('done');
    const ours = scan.results.filter((r) => cams.some((c) => c.onvifUrl === r.xaddr));
    expect(ours.map((r) => r.xaddr).sort()).toEqual(cams.map((c) => c.onvifUrl).sort());
    expect(ours.map((r) => r.name).sort()).toEqual(cams.map((c) => c.name).sort());
    expect(new Set(ours.map((r) => r.endpoint)).size).toBe(cams.length);
    expect(ours.every((r) => r.via === 'ws-discovery' || r.via === 'multicast')).toBe(true);
    forget();
    expect(scans.knownResponders()).toEqual([]);
  });
});

describe.each(dbKinds())('ONVIF discovery and probing on %s', (kind) => {
  let t: TestApp;
  let tech: string;
  const progress: BusMessage[] = [];

  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    tech = await t.cookie('technician');
    t.ctx.bus.subscribe((m) => { if (m.topic === 'discovery.progress') progress.push(m); });
  });
  afterAll(async () => { await t.close(); });

  const startScan = async (payload: object) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/discovery/scans', headers: { cookie: tech }, payload });
    expect(res.statusCode, res.body).toBe(202);
    return res.json().id as string;
  };
  const untilDone = async (id: string, maxMs = 15_000) => {
    const t0 = Date.now();
    for (;;) {
      const res = await t.app.inject({ url: `/api/discovery/scans/${id}`, headers: { cookie: tech } });
      expect(res.statusCode).toBe(200);
      const scan = res.json();
      if (scan.state !== 'running') return scan;
      if (Date.now() - t0 > maxMs) throw new Error(`scan still running after ${maxMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('scans an address range: finds the simulator\'s cameras with profiles and stream URIs, or says why not', async () => {
    const id = await startScan({
      mode: 'range', from: '127.0.0.1', to: '127.0.0.4', ports: [simHttpPort], discoveryPort: sim.discoveryPort,
      username: cams[0].username, password: cams[0].password, timeoutMs: 1500,
    });
    const scan = await untilDone(id);
    expect(scan).toMatchObject({ state: 'done', progress: { done: 4, total: 4 }, found: 3 });
    expect(scan.results.map((r: { xaddr: string }) => r.xaddr)).toEqual(cams.map((c) => c.onvifUrl));
    const [first, second] = scan.results;
    expect(first).toMatchObject({
      host: '127.0.0.1', port: simHttpPort, via: 'ws-discovery', reachable: true, authFailed: false, manufacturer: 'StreetEye', model: 'SimCam-2',
      firmware: '1.0.0', serial: 'SIM000001-cam001', hardwareId: 'SIM-001', hasPtz: true, snapshotUri: cams[0].snapshotUrl, error: null, inInventory: null,
      profiles: [
        { token: 'main_profile', width: 320, height: 180, encoding: 'H264', streamUri: cams[0].rtspMain },
        { token: 'sub_profile', width: 160, height: 90, encoding: 'H264', streamUri: cams[0].rtspSub },
      ],
    });
    expect(Math.abs(first.clockDriftMs)).toBeLessThan(1500);
    // every simulated camera has its own password: the scan's credentials fit only the first
    expect(second).toMatchObject({ reachable: true, authFailed: true, profiles: [] });
    expect(second.error).toMatch(/authentication failed .*refused the user name or password/);
    // progress went out on the bus, ending with the final state
    const mine = progress.filter((m) => m.topic === 'discovery.progress' && m.payload.scanId === id).map((m) => m.payload as BusTopics['discovery.progress']);
    expect(mine.at(-1)).toMatchObject({ state: 'done', progress: { done: 4, total: 4 } });
    expect(mine[0]).toMatchObject({ state: 'running' });
    expect(t.logLines.join('')).not.toContain(cams[0].password);

    // add two: the second with its own credentials (the scan could not read its streams: probed again now)
    const add = await t.app.inject({
      method: 'POST', url: `/api/discovery/scans/${id}/add`, headers: { cookie: tech },
      payload: { devices: [
        { xaddr: cams[0].onvifUrl, username: cams[0].username, password: cams[0].password, district: '西湖区' },
        { xaddr: cams[1].onvifUrl, name: 'Gate 2', username: cams[1].username, password: cams[1].password },
      ] },
    });
    expect(add.statusCode, add.body).toBe(201);
    const created = add.json();
    expect(created.total).toBe(2);
    expect(created.items[0]).toMatchObject({
      // the name the device announces in its WS-Discovery scopes (devices behind one address differ there)
      name: cams[0].name, district: '西湖区', onvifUrl: cams[0].onvifUrl, rtspMain: cams[0].rtspMain, rtspSub: cams[0].rtspSub, hasCredentials: true,
    });
    expect(created.items[1]).toMatchObject({ name: 'Gate 2', rtspMain: cams[1].rtspMain, rtspSub: cams[1].rtspSub, hasCredentials: true });
    expect(add.body).not.toContain(cams[1].password);
    expect(await t.cameras.credentials(t.db, created.items[1].id)).toEqual({ username: 'admin', password: cams[1].password });
    const audit = await t.db.query<{ action: string; detail: { via?: string } }>(`SELECT action, detail FROM audit_log WHERE target_id = $1`, [created.items[0].id]);
    expect(audit.rows).toEqual([expect.objectContaining({ action: 'camera.create', detail: expect.objectContaining({ via: 'discovery', scanId: id }) })]);

    const again = (await t.app.inject({ url: `/api/discovery/scans/${id}`, headers: { cookie: tech } })).json();
    expect(again.results.map((r: { inInventory: string | null }) => r.inInventory)).toEqual([created.items[0].id, created.items[1].id, null]);
    // adding the same device twice, wrong credentials, or a device the scan did not find: nothing is added
    const dup = await t.app.inject({ method: 'POST', url: `/api/discovery/scans/${id}/add`, headers: { cookie: tech }, payload: { devices: [{ xaddr: cams[0].onvifUrl, name: 'Other name' }] } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().message).toMatch(/already in the inventory/);
    const wrong = await t.app.inject({ method: 'POST', url: `/api/discovery/scans/${id}/add`, headers: { cookie: tech }, payload: { devices: [{ xaddr: cams[2].onvifUrl, username: 'admin', password: 'nope' }, { xaddr: 'http://10.9.9.9/onvif/device_service' }] } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().fieldErrors['devices.0']).toMatch(/cannot read the stream addresses: authentication failed/);
    expect(wrong.json().fieldErrors['devices.1']).toMatch(/not among this scan's results/);
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras')).rows[0].n).toBe(2);
  });

  it('scans a list of hosts, can be cancelled, and refuses bad requests in words', async () => {
    const hostsScan = await untilDone(await startScan({ mode: 'range', hosts: ['127.0.0.1'], ports: [simHttpPort], discoveryPort: sim.discoveryPort }));
    expect(hostsScan).toMatchObject({ state: 'done', found: 3 });
    // no credentials: everything but the clock needs them on the simulator
    expect(hostsScan.results.every((r: { authFailed: boolean }) => r.authFailed)).toBe(true);

    const slow = await startScan({ mode: 'range', from: '127.0.2.1', to: '127.0.2.60', ports: [blackholePort], discoveryPort: 0, timeoutMs: 1000, concurrency: 2 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const cancelled = await t.app.inject({ method: 'DELETE', url: `/api/discovery/scans/${slow}`, headers: { cookie: tech } });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: 'cancelled' });
    expect(cancelled.json().progress.done).toBeLessThan(60);
    expect(Date.now() - t0).toBeLessThan(2500);

    const bad = async (payload: object, re: RegExp) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/discovery/scans', headers: { cookie: tech }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(re);
    };
    await bad({ mode: 'range', from: '10.0.0.0', to: '10.0.8.0' }, /2049 addresses; at most 1024/);
    await bad({ mode: 'range', from: '10.0.0.9', to: '10.0.0.1' }, /to must not come before from/);
    await bad({ mode: 'range', from: 'camera-1', to: '10.0.0.1' }, /IPv4/);
    await bad({ mode: 'range', hosts: ['10.0.0.1;rm -rf /'] }, /not an IPv4 address or host name/);
    await bad({ mode: 'range' }, /needs from and to/);
    await bad({ mode: 'range', from: '10.0.0.1', to: '10.0.0.2', extra: 1 }, /extra is not a known field/);
    const op = await t.app.inject({ method: 'POST', url: '/api/discovery/scans', headers: { cookie: await t.cookie('operator') }, payload: { mode: 'multicast' } });
    expect(op.statusCode).toBe(403);
    const list = (await t.app.inject({ url: '/api/discovery/scans', headers: { cookie: tech } })).json();
    expect(list.total).toBeGreaterThanOrEqual(2);
  });

  it('probes inventory cameras: device, profiles, stream URIs and clock drift; offline and refused cameras in words', async () => {
    const cam = await t.cameras.insert(t.db, { name: 'Probe sim 3', onvifUrl: cams[2].onvifUrl, username: cams[2].username, password: cams[2].password });
    const probe = async (id: string) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/cameras/${id}/probe`, headers: { cookie: tech } });
      expect(res.statusCode).toBe(200);
      return res.json();
    };
    const ok = await probe(cam.id);
    expect(ok).toMatchObject({ method: 'onvif', reachable: true, authFailed: false, error: null, status: 'reachable', manufacturer: 'StreetEye', model: 'SimCam-2' });
    expect(ok.profiles.map((p: { streamUri: string }) => p.streamUri)).toEqual([cams[2].rtspMain, cams[2].rtspSub]);
    expect(typeof ok.clockDriftMs).toBe('number');
    expect(JSON.stringify(ok)).not.toContain(cams[2].password);

    sim.fault(cams[2].id, { kind: 'auth-refuse' });
    const refused = await probe(cam.id);
    expect(refused).toMatchObject({ reachable: true, authFailed: true, status: 'auth_failed' });
    expect(refused.error).toMatch(/authentication failed/);

    sim.fault(cams[2].id, { kind: 'offline' });
    const off = await probe(cam.id);
    expect(off).toMatchObject({ reachable: false, status: 'offline' });
    expect(off.error).toMatch(/^unreachable: /);
    sim.restore(cams[2].id);
    const hist = (await t.app.inject({ url: `/api/cameras/${cam.id}/status-history`, headers: { cookie: tech } })).json();
    expect(hist.items.map((i: { status: string }) => i.status)).toEqual(['offline', 'auth_failed', 'reachable']);
  });

  it('the periodic health check records clock drift (ONVIF GetSystemDateAndTime) and reachability', async () => {
    const fast = await t.cameras.insert(t.db, { name: 'Fast clock', onvifUrl: skewedUrl, district: '上城区' });
    const fleet = t.ctx.fleet;
    await fleet.checker.checkNow();
    const health = await t.db.query<{ camera_id: string; reachable: boolean; clock_drift_ms: number | null; method: string }>(
      'SELECT camera_id, reachable, clock_drift_ms, method FROM camera_health');
    const row = health.rows.find((r) => r.camera_id === fast.id)!;
    expect(row).toMatchObject({ reachable: true, method: 'onvif' });
    expect(Math.abs(row.clock_drift_ms! - 90_000)).toBeLessThan(1500);
    const summary = (await t.app.inject({ url: '/api/fleet/summary', headers: { cookie: tech } })).json();
    expect(summary.clockDrift).toEqual([expect.objectContaining({ cameraId: fast.id, name: 'Fast clock' })]);
    // the cameras added from the scan were probed too: the simulator answers, so they count as online
    expect(summary.byStatus.reachable).toBeGreaterThanOrEqual(3);
  });
});
