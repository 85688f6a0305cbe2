/**
 * ONVIF discovery scans, run in the background with progress on the bus (`discovery.progress`).
 *
 *  - multicast: one WS-Discovery Probe to 239.255.255.250:3702 (onvif package's Discovery), then a full probe
 *    of every device that answered. Where multicast cannot work the scan fails with a message saying so.
 *  - range: every IPv4 address from..to (or the given hosts, "host" or "host:port"), at most MAX_TARGETS:
 *    a unicast WS-Discovery Probe (UDP, the given discoveryPort, default 3702) and a direct
 *    GetSystemDateAndTime on http://host:port/onvif/device_service for each port (default 80, 8000, 8080);
 *    every device service found is then probed fully (device information, profiles, stream URIs, clock drift).
 *
 * Responders registered with registerResponder() (the demo fleet's simulator answers WS-Discovery on a port of its
 * own) are probed by unicast in every multicast scan and in range scans of their host, so a default scan finds
 * them where multicast is filtered (containers, loopback). Answers are merged per device endpoint (urn:uuid): one
 * result per device, however many ways it answered.
 *
 * Concurrency is bounded, every network call has a timeout, a scan can be cancelled. Scans live in memory on
 * the node that runs them (they are minutes-long technician tasks, not records); finished scans are kept for
 * an hour. Probe credentials live only in the closure of the running scan: never stored on it, never logged.
 */
import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../bus.js';
import { onvifClock, probeOnvif, type OnvifDeviceReport } from '../../onvif/client.js';
import { cameraNetworks, normaliseAddress } from '../camera-network/policy.js';
import { resolveCameraAddress, isCameraNetworkRefusal } from '../camera-network/connect.js';
import { multicastProbe, unicastProbe, WS_DISCOVERY_PORT, type DiscoveredEndpoint } from '../../onvif/ws-discovery.js';

export const MAX_TARGETS = 1024;
export const DEFAULT_PORTS = [80, 8000, 8080];

export type ScanState = 'running' | 'done' | 'failed' | 'cancelled';

export interface ScanRequest {
  mode: 'multicast' | 'range';
  from?: string;
  to?: string;
  /** "host" or "host:port" (port = the device service's HTTP port) */
  hosts?: string[];
  ports?: number[];
  /** UDP port of the unicast WS-Discovery probe (range mode); 0 = skip it */
  discoveryPort?: number;
  username?: string;
  password?: string;
  /** per network call, ms */
  timeoutMs?: number;
  concurrency?: number;
}

export interface ScanResult extends Omit<OnvifDeviceReport, 'rttMs' | 'deviceTime' | 'errorKind' | 'error'> {
  via: 'multicast' | 'ws-discovery' | 'direct';
  authFailed: boolean;
  error: string | null;
  /** WS-Discovery endpoint reference (urn:uuid:…), when the device answered a probe */
  endpoint: string | null;
  /** the device's name from its WS-Discovery scopes (onvif://www.onvif.org/name/…) */
  name: string | null;
}

/** A WS-Discovery responder this node knows of besides the standard port (host, UDP port). */
export interface KnownResponder { host: string; port: number; label: string }

export interface Scan {
  id: string;
  mode: 'multicast' | 'range';
  state: ScanState;
  /** why the scan failed or what limited it, in words */
  message: string | null;
  progress: { done: number; total: number };
  results: ScanResult[];
  createdBy: string;
  startedAt: string;
  finishedAt: string | null;
  targets: string;
}

interface Target {
  host: string;
  /** explicit device-service port ("host:port"), else the scan's port list */
  port?: number;
}

export class ScanInputError extends Error {}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const HOST_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Validates a scan request into targets; throws ScanInputError with a message a technician can act on. */
export function scanTargets(req: ScanRequest): Target[] {
  if (req.mode === 'multicast') return [];
  if (req.hosts?.length) {
    if (req.from || req.to) throw new ScanInputError('give either from/to or hosts, not both');
    if (req.hosts.length > MAX_TARGETS) throw new ScanInputError(`at most ${MAX_TARGETS} hosts per scan`);
    const out: Target[] = [];
    const seen = new Set<string>();
    for (const raw of req.hosts) {
      const s = raw.trim();
      const m = /^(.+?)(?::(\d{1,5}))?$/.exec(s);
      const host = m?.[1] ?? '';
      const port = m?.[2] ? Number(m[2]) : undefined;
      if (!(isIPv4(host) || HOST_RE.test(host))) throw new ScanInputError(`"${s.slice(0, 60)}" is not an IPv4 address or host name (optionally with :port)`);
      if (port !== undefined && (port < 1 || port > 65535)) throw new ScanInputError(`"${s.slice(0, 60)}": port must be 1-65535`);
      refuseOutsideCameraNetworks(host, port ?? 80);
      const key = `${host.toLowerCase()}:${port ?? ''}`;
      if (!seen.has(key)) { seen.add(key); out.push({ host, port }); }
    }
    return out;
  }
  if (!req.from || !req.to) throw new ScanInputError('range mode needs from and to (IPv4 addresses) or a list of hosts');
  if (!isIPv4(req.from) || !isIPv4(req.to)) throw new ScanInputError('from and to must be IPv4 addresses such as 10.20.0.1');
  const a = ipToInt(req.from);
  const b = ipToInt(req.to);
  if (b < a) throw new ScanInputError('to must not come before from');
  if (b - a + 1 > MAX_TARGETS) throw new ScanInputError(`the range has ${b - a + 1} addresses; at most ${MAX_TARGETS} per scan (e.g. one /22)`);
  const out: Target[] = [];
  for (let n = a; n <= b; n++) {
    refuseOutsideCameraNetworks(intToIp(n), 80);
    out.push({ host: intToIp(n) });
  }
  return out;
}

/** Discovery only aims inside CAMERA_NETWORKS (names are resolved and checked when the scan reaches them). */
function refuseOutsideCameraNetworks(host: string, port: number): void {
  if (!normaliseAddress(host)) return;
  const v = cameraNetworks().check(host, port);
  if (!v.ok) throw new ScanInputError(`${host} is not a camera network address (CAMERA_NETWORKS) / 该地址不在允许的摄像机网段内`);
}

export interface ScanManagerOptions {
  bus: Bus;
  logger: FastifyBaseLogger;
  /** finished scans kept this long (ms) */
  keepMs?: number;
  maxScans?: number;
  multicastTimeoutMs?: number;
}

interface Running {
  abort: AbortController;
  done: Promise<void>;
}

export class ScanManager {
  private readonly scans = new Map<string, Scan>();
  private readonly running = new Map<string, Running>();
  private readonly log: FastifyBaseLogger;
  private readonly responders = new Map<string, KnownResponder>();

  constructor(private readonly o: ScanManagerOptions) {
    this.log = o.logger.child({ module: 'discovery' });
  }

  /** Probes this responder in every multicast scan and in range scans of its host; returns the way to forget it. */
  registerResponder(r: KnownResponder): () => void {
    const key = `${r.host}:${r.port}`;
    this.responders.set(key, r);
    this.log.info({ host: r.host, port: r.port, label: r.label }, 'WS-Discovery responder registered for scans');
    return () => { this.responders.delete(key); };
  }

  knownResponders(): KnownResponder[] {
    return [...this.responders.values()];
  }

  private async probeResponders(list: KnownResponder[], timeoutMs: number, signal: AbortSignal): Promise<DiscoveredEndpoint[]> {
    const found = await Promise.all(list.map((r) => unicastProbe(r.host, r.port, timeoutMs, signal)));
    return found.flat();
  }

  list(): Scan[] {
    this.expire();
    return [...this.scans.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  get(id: string): Scan | null {
    this.expire();
    return this.scans.get(id) ?? null;
  }

  /** Starts a scan and returns at once (validation errors throw ScanInputError). */
  start(req: ScanRequest, createdBy: string): Scan {
    const targets = scanTargets(req);
    this.expire();
    if (this.running.size >= 4) throw new ScanInputError('4 scans are already running on this server; wait for one to finish or cancel it');
    const ports = [...new Set(req.ports?.length ? req.ports : DEFAULT_PORTS)];
    const scan: Scan = {
      id: randomUUID(), mode: req.mode, state: 'running', message: null,
      progress: { done: 0, total: req.mode === 'multicast' ? 1 : targets.length }, results: [], createdBy,
      startedAt: new Date().toISOString(), finishedAt: null,
      targets: req.mode === 'multicast' ? 'multicast 239.255.255.250:3702'
        : req.hosts?.length ? `${targets.length} host(s): ${req.hosts.slice(0, 3).join(', ')}${req.hosts.length > 3 ? ', …' : ''}` : `${req.from} – ${req.to}`,
    };
    this.scans.set(scan.id, scan);
    const abort = new AbortController();
    // credentials stay in this closure only
    const creds = { username: req.username || undefined, password: req.password || undefined };
    const settings = {
      ports, discoveryPort: req.discoveryPort ?? WS_DISCOVERY_PORT, timeoutMs: req.timeoutMs ?? 2500,
      concurrency: Math.max(1, Math.min(64, req.concurrency ?? 32)),
    };
    this.log.info({ scan: scan.id, mode: scan.mode, targets: scan.targets, ports, by: createdBy }, 'discovery scan started');
    const done = (req.mode === 'multicast' ? this.runMulticast(scan, creds, settings, abort.signal) : this.runRange(scan, targets, creds, settings, abort.signal))
      .then(() => {
        if (scan.state === 'running') scan.state = abort.signal.aborted ? 'cancelled' : 'done';
      })
      .catch((err: Error) => {
        if (scan.state === 'running') {
          scan.state = 'failed';
          scan.message = scan.message ?? `the scan stopped: ${err.message}`;
        }
        this.log.warn({ scan: scan.id, err }, 'discovery scan failed');
      })
      .finally(() => {
        scan.finishedAt = new Date().toISOString();
        this.running.delete(scan.id);
        this.publish(scan, true);
        this.log.info({ scan: scan.id, state: scan.state, found: scan.results.length, ms: Date.now() - Date.parse(scan.startedAt) }, 'discovery scan finished');
      });
    this.running.set(scan.id, { abort, done });
    this.publish(scan, true);
    return scan;
  }

  /** Cancels a running scan (results found so far are kept). */
  async cancel(id: string): Promise<Scan | null> {
    const scan = this.scans.get(id);
    if (!scan) return null;
    const r = this.running.get(id);
    if (r) {
      scan.state = 'cancelled';
      scan.message = 'cancelled; results found so far are kept';
      r.abort.abort();
      await r.done;
    }
    return scan;
  }

  /** Waits for a scan to finish (tests). */
  async wait(id: string): Promise<Scan | null> {
    await this.running.get(id)?.done;
    return this.scans.get(id) ?? null;
  }

  async stop(): Promise<void> {
    const all = [...this.running.entries()];
    for (const [id, r] of all) {
      const s = this.scans.get(id);
      if (s && s.state === 'running') { s.state = 'cancelled'; s.message = 'the server is shutting down'; }
      r.abort.abort();
    }
    await Promise.all(all.map(([, r]) => r.done));
  }

  private lastPublish = new Map<string, number>();

  private publish(scan: Scan, force = false): void {
    const now = Date.now();
    if (!force && now - (this.lastPublish.get(scan.id) ?? 0) < 200) return;
    this.lastPublish.set(scan.id, now);
    if (scan.state !== 'running') this.lastPublish.delete(scan.id);
    this.o.bus.publish('discovery.progress', {
      scanId: scan.id, state: scan.state, progress: { ...scan.progress }, found: scan.results.length, message: scan.message,
    });
  }

  private expire(): void {
    const keep = this.o.keepMs ?? 3600_000;
    const now = Date.now();
    for (const [id, s] of this.scans) if (s.finishedAt && now - Date.parse(s.finishedAt) > keep) this.scans.delete(id);
    const max = this.o.maxScans ?? 20;
    if (this.scans.size > max) {
      const finished = [...this.scans.values()].filter((s) => s.finishedAt).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
      for (const s of finished.slice(0, this.scans.size - max)) this.scans.delete(s.id);
    }
  }

  private addResult(scan: Scan, r: ScanResult): void {
    // one row per device: the same service, or the same WS-Discovery endpoint reached another way
    if (scan.results.some((x) => sameService(x.xaddr, r.xaddr) || (r.endpoint && x.endpoint === r.endpoint))) return;
    scan.results.push(r);
    scan.results.sort((a, b) => a.host.localeCompare(b.host, undefined, { numeric: true }) || a.port - b.port || a.xaddr.localeCompare(b.xaddr));
  }

  private async probeDevice(xaddr: string, via: ScanResult['via'], creds: { username?: string; password?: string }, timeoutMs: number, ep?: DiscoveredEndpoint): Promise<ScanResult> {
    const r = await probeOnvif({ xaddr, username: creds.username, password: creds.password, callTimeoutMs: timeoutMs });
    const { rttMs: _rtt, deviceTime: _dt, errorKind, ...rest } = r;
    return { ...rest, via, authFailed: errorKind === 'auth', error: r.error, endpoint: ep?.endpoint ?? null, name: ep ? scopeName(ep.scopes) : null };
  }

  private async runMulticast(scan: Scan, creds: { username?: string; password?: string }, s: { timeoutMs: number; concurrency: number }, signal: AbortSignal): Promise<void> {
    const known = this.knownResponders();
    const [mc, direct] = await Promise.all([
      multicastProbe(this.o.multicastTimeoutMs ?? 3000),
      this.probeResponders(known, Math.min(s.timeoutMs, 1500), signal),
    ]);
    if (signal.aborted) return;
    if (mc.error && !direct.length) {
      scan.state = 'failed';
      scan.message = mc.error;
      scan.progress.done = 1;
      return;
    }
    const devices = uniqueDevices([...mc.devices, ...direct]);
    scan.progress = { done: 0, total: devices.length };
    if (mc.error) scan.message = `本网络无法组播，所列设备来自本服务器已知的 WS-Discovery 端口 (${known.map((r) => r.label).join(', ')}) ${mc.error}; the devices listed answered on the WS-Discovery ports known to this server`;
    else if (!devices.length) scan.message = '没有设备应答组播探测（本网络可能过滤组播，请改用地址段扫描）no device answered the multicast probe (multicast may be filtered on this network: try an address range)';
    this.publish(scan, true);
    const unicast = new Set(direct);
    await pool(devices, s.concurrency, signal, async ({ xaddr, ep }) => {
      this.addResult(scan, await this.probeDevice(xaddr, unicast.has(ep) ? 'ws-discovery' : 'multicast', creds, s.timeoutMs, ep));
      scan.progress.done++;
      this.publish(scan);
    });
  }

  private async runRange(
    scan: Scan, targets: Target[], creds: { username?: string; password?: string },
    s: { ports: number[]; discoveryPort: number; timeoutMs: number; concurrency: number }, signal: AbortSignal,
  ): Promise<void> {
    await pool(targets, s.concurrency, signal, async (t0) => {
      const candidates = new Map<string, { via: ScanResult['via']; ep?: DiscoveredEndpoint }>();
      // a name is resolved and checked once; the probes then aim at the checked address
      let t = t0;
      try {
        t = { ...t0, host: await resolveCameraAddress(t0.host, t0.port ?? 80) };
      } catch (err) {
        if (!isCameraNetworkRefusal(err)) this.o.logger.debug({ host: t0.host, err: (err as Error).message }, 'scan target does not resolve');
        scan.progress.done++;
        this.publish(scan);
        return;
      }
      // 1. unicast WS-Discovery: finds devices on any port and path, several per host (NVRs, encoders)
      // (and the responders registered for this host, e.g. the demo fleet's simulator on a port of its own)
      const ports = new Set(s.discoveryPort > 0 ? [s.discoveryPort] : []);
      for (const r of this.knownResponders()) if (r.host === t.host || r.host === t0.host) ports.add(r.port);
      if (ports.size) {
        const found = (await Promise.all([...ports].map((port) => unicastProbe(t.host, port, Math.min(s.timeoutMs, 1500), signal)))).flat();
        for (const d of uniqueDevices(found)) candidates.set(d.xaddr, { via: 'ws-discovery', ep: d.ep });
      }
      // 2. direct device service on the usual ports (cameras with WS-Discovery switched off, as many are)
      const httpPorts = t.port ? [t.port] : s.ports;
      await Promise.all(httpPorts.map(async (port) => {
        const xaddr = `http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${port}/onvif/device_service`;
        if ([...candidates.keys()].some((x) => sameService(x, xaddr))) return;
        if (signal.aborted) return;
        const c = await onvifClock({ xaddr, callTimeoutMs: s.timeoutMs });
        // anything that answers like ONVIF (even "not authorised") is a device; refused / silent ports are not
        if (c.reachable || c.errorKind === 'auth') candidates.set(xaddr, { via: 'direct' });
      }));
      for (const [xaddr, { via, ep }] of candidates) {
        if (signal.aborted) return;
        this.addResult(scan, await this.probeDevice(xaddr, via, creds, s.timeoutMs, ep));
      }
      scan.progress.done++;
      this.publish(scan);
    });
  }
}

/** One device service per WS-Discovery endpoint (urn:uuid), whichever probe it answered. */
function uniqueDevices(found: DiscoveredEndpoint[]): Array<{ xaddr: string; ep: DiscoveredEndpoint }> {
  const out: Array<{ xaddr: string; ep: DiscoveredEndpoint }> = [];
  for (const ep of found) {
    // prefer the XAddr on the address the answer came from, IPv4 over IPv6
    const x = ep.xaddrs.find((u) => hostOf(u) === ep.from) ?? ep.xaddrs.find((u) => !hostOf(u).includes(':')) ?? ep.xaddrs[0];
    if (!x) continue;
    if (out.some((o) => sameService(o.xaddr, x) || (ep.endpoint && o.ep.endpoint === ep.endpoint))) continue;
    out.push({ xaddr: x, ep });
  }
  return out;
}

/** The device's name from its scopes (onvif://www.onvif.org/name/<name>, percent-encoded). */
function scopeName(scopes: string[]): string | null {
  const s = scopes.find((x) => /^onvif:\/\/www\.onvif\.org\/name\//i.test(x));
  if (!s) return null;
  try { return decodeURIComponent(s.replace(/^onvif:\/\/www\.onvif\.org\/name\//i, '')).replace(/_/g, ' ').slice(0, 100) || null; } catch { return null; }
}

function hostOf(u: string): string {
  try { return new URL(u).hostname.replace(/^\[|\]$/g, ''); } catch { return ''; }
}

function sameService(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const port = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
    return x.hostname === y.hostname && port(x) === port(y) && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
  } catch {
    return a === b;
  }
}

/** Runs fn over items with at most `concurrency` at a time; stops taking new items once aborted. */
async function pool<T>(items: T[], concurrency: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!signal.aborted && next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
