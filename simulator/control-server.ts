/**
 * Fault control API: GET /cameras, POST /cameras/:id/faults {kind,...}, DELETE /cameras/:id/faults,
 * GET /cameras/:id/ptz (a PTZ dome's position, velocity, presets and move count; 404 for a fixed camera),
 * POST /cameras/:id/alarm {kind: motion|tamper, active: boolean} (204), GET /cameras/:id/alarms.
 * Bound to the simulator's host (loopback by default): it is a test tool, not an authenticated service.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { SimFault } from './camera.js';
import { ALARM_KINDS, type AlarmKind } from './events.js';
import type { Simulator } from './index.js';

/** What the control API drives: the simulator's own camera commands. */
export type ControlTarget = Pick<Simulator, 'cameras' | 'fault' | 'restore' | 'ptz' | 'setAlarm' | 'alarms'>;

export interface ControlServer {
  url: string;
  stop(): Promise<void>;
}

const KINDS = new Set(['offline', 'stall', 'drop', 'auth-refuse', 'resolution', 'delay']);

export function parseFault(v: unknown): SimFault {
  if (!v || typeof v !== 'object') throw new Error('fault must be a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.kind !== 'string' || !KINDS.has(o.kind)) throw new Error(`kind must be one of ${[...KINDS].join(', ')}`);
  const num = (k: string, required: boolean): number | undefined => {
    if (o[k] === undefined && !required) return undefined;
    const n = Number(o[k]);
    if (!Number.isFinite(n)) throw new Error(`${k} must be a number`);
    return n;
  };
  switch (o.kind) {
    case 'resolution':
      return { kind: 'resolution', width: num('width', true)!, height: num('height', true)! };
    case 'delay':
      return { kind: 'delay', ms: num('ms', true)!, jitterMs: num('jitterMs', false) };
    case 'drop':
      return { kind: 'drop', afterMs: num('afterMs', false) };
    default:
      return { kind: o.kind } as SimFault;
  }
}

export function parseAlarm(v: unknown): { kind: AlarmKind; active: boolean } {
  if (!v || typeof v !== 'object') throw new Error('alarm must be a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.kind !== 'string' || !(ALARM_KINDS as readonly string[]).includes(o.kind)) throw new Error(`kind must be one of ${ALARM_KINDS.join(', ')}`);
  if (typeof o.active !== 'boolean') throw new Error('active must be true or false');
  return { kind: o.kind as AlarmKind, active: o.active };
}

export async function startControlServer(sim: ControlTarget, host: string, port: number, log: Logger): Promise<ControlServer> {
  const clog = log.child({ module: 'sim-control' });
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text + '\n');
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/cameras') return send(200, sim.cameras());
    const m = /^\/cameras\/([^/]+)\/(faults|ptz|alarm|alarms)$/.exec(path);
    if (!m) return send(404, { error: 'not found' });
    const id = decodeURIComponent(m[1]);
    if (!sim.cameras().some((c) => c.id === id)) return send(404, { error: `unknown camera ${id}` });
    if (m[2] === 'ptz') {
      if (req.method !== 'GET') return send(405, { error: 'use GET' });
      const state = sim.ptz(id);
      return state ? send(200, state) : send(404, { error: `camera ${id} has no PTZ` });
    }
    if (m[2] === 'alarms') return req.method === 'GET' ? send(200, sim.alarms(id)) : send(405, { error: 'use GET' });
    if (m[2] === 'alarm' && req.method !== 'POST') return send(405, { error: 'use POST' });
    if (req.method === 'DELETE') {
      sim.restore(id);
      return send(200, { id, restored: true });
    }
    if (req.method !== 'POST') return send(405, { error: 'use POST or DELETE' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > 10_000) req.destroy();
    });
    req.on('end', () => {
      try {
        if (m[2] === 'alarm') {
          const a = parseAlarm(JSON.parse(body || '{}'));
          sim.setAlarm(id, a.kind, a.active);
          res.writeHead(204).end();
          return;
        }
        const f = parseFault(JSON.parse(body || '{}'));
        sim.fault(id, f);
        send(200, { id, fault: f });
      } catch (e) {
        clog.debug({ err: (e as Error).message }, `bad ${m[2]} request`);
        send(400, { error: (e as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const p = typeof a === 'object' && a ? a.port : port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${p}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
