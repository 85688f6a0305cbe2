/**
 * ONVIF discovery API (technicians and admins):
 *   POST   /api/discovery/scans           start a scan → 202 {id}; progress on the live feed (topic discovery.progress)
 *   GET    /api/discovery/scans           recent scans on this server
 *   GET    /api/discovery/scans/:id       state, progress, results (device info, profiles, stream URIs, clock drift)
 *   DELETE /api/discovery/scans/:id       cancel
 *   POST   /api/discovery/scans/:id/add   add chosen devices to the inventory (main = highest resolution profile,
 *                                         sub = lowest), with their credentials, audited
 *
 *   await app.register(discoveryRoutes, node);   // node.scans: the node's scan manager
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { publishCameraChange } from '../bus.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import type { Camera, CameraInput } from '../inventory/camera-model.js';
import { validateCameraInput } from '../inventory/camera-model.js';
import { parseOnvifUrl } from '../inventory/camera-url.js';
import { cameraReply } from '../inventory/routes.js';
import { INVENTORY_EDITORS, type SessionUser } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf } from '../http/schemas.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import type { Queryable } from '../db/db.js';
import { probeOnvif } from '../../onvif/client.js';
import { MAX_TARGETS, ScanInputError, ScanManager, type Scan, type ScanRequest, type ScanResult } from './scan-manager.js';
import { profileReply } from '../fleet/routes.js';

const nullableString = { type: ['string', 'null'] } as const;
const idParam = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'], additionalProperties: false } as const;

const scanBody = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: ['multicast', 'range'] },
    from: { type: 'string', maxLength: 15 },
    to: { type: 'string', maxLength: 15 },
    hosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 260 }, minItems: 1, maxItems: MAX_TARGETS },
    ports: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 }, minItems: 1, maxItems: 16 },
    discoveryPort: { type: 'integer', minimum: 0, maximum: 65535, description: 'UDP port of the unicast WS-Discovery probe (default 3702; 0 = skip)' },
    username: { type: 'string', maxLength: 64, description: 'used for probing only; never stored or logged' },
    password: { type: 'string', maxLength: 128, description: 'used for probing only; never stored or logged' },
    timeoutMs: { type: 'integer', minimum: 200, maximum: 30_000 },
    concurrency: { type: 'integer', minimum: 1, maximum: 64 },
  },
  required: ['mode'],
  additionalProperties: false,
} as const;

const resultReply = {
  type: 'object',
  properties: {
    host: { type: 'string' }, port: { type: 'integer' }, xaddr: { type: 'string' }, via: { type: 'string' }, reachable: { type: 'boolean' },
    authFailed: { type: 'boolean' }, manufacturer: nullableString, model: nullableString, firmware: nullableString, serial: nullableString,
    hardwareId: nullableString, profiles: { type: 'array', items: profileReply }, snapshotUri: nullableString, hasPtz: { type: 'boolean' },
    clockDriftMs: { type: ['integer', 'null'] }, error: nullableString, inInventory: nullableString, endpoint: nullableString, name: nullableString,
  },
} as const;

const scanSummaryProps = {
  id: { type: 'string' }, mode: { type: 'string' }, state: { type: 'string', enum: ['running', 'done', 'failed', 'cancelled'] },
  message: nullableString, progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
  found: { type: 'integer' }, createdBy: { type: 'string' }, startedAt: { type: 'string' }, finishedAt: nullableString, targets: { type: 'string' },
} as const;
const scanReply = { type: 'object', properties: { ...scanSummaryProps, results: { type: 'array', items: resultReply } } } as const;

interface AddDevice extends Omit<CameraInput, 'rtspMain' | 'rtspSub' | 'onvifUrl'> {
  xaddr: string;
}

const addBody = {
  type: 'object',
  properties: {
    devices: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      items: {
        type: 'object',
        properties: {
          xaddr: { type: 'string', minLength: 1, maxLength: 1024 }, name: { type: 'string' }, username: nullableString, password: nullableString,
          nationalId: nullableString, owner: nullableString, sharing: { type: 'string', enum: ['shared', 'restricted'] },
          lat: { type: ['number', 'null'] }, lng: { type: ['number', 'null'] }, address: nullableString, district: nullableString,
          street: nullableString, community: nullableString, gridCode: nullableString, tags: { type: 'array', items: { type: 'string' }, maxItems: 50 },
        },
        required: ['xaddr'],
        additionalProperties: false,
      },
    },
  },
  required: ['devices'],
  additionalProperties: false,
} as const;

function normaliseXaddr(x: string): string {
  try {
    return parseOnvifUrl(x).url;
  } catch {
    return x;
  }
}

/** Which results are already cameras (by ONVIF address), among the cameras this user may see. */
async function withInventory(q: Queryable, user: SessionUser, scan: Scan) {
  const xaddrs = scan.results.map((r) => normaliseXaddr(r.xaddr));
  const known = new Map<string, string>();
  if (xaddrs.length) {
    const res = await q.query<{ id: string; onvif_url: string }>(
      `SELECT c.id, c.onvif_url FROM cameras c WHERE c.onvif_url = ANY($1::text[]) AND ${visibilityCondition(user)}`, [xaddrs]);
    for (const r of res.rows) known.set(r.onvif_url, r.id);
  }
  const { results, ...rest } = scan;
  return { ...rest, found: results.length, results: results.map((r) => ({ ...r, inInventory: known.get(normaliseXaddr(r.xaddr)) ?? null })) };
}

function summary(scan: Scan) {
  const { results, ...rest } = scan;
  return { ...rest, found: results.length };
}

/** main = highest resolution profile with a stream URI, sub = lowest (when there is a second one). */
export function pickStreams(r: Pick<ScanResult, 'profiles'>): { rtspMain: string | null; rtspSub: string | null } {
  const withUri = r.profiles.filter((p) => p.streamUri);
  const area = (p: { width: number | null; height: number | null }) => (p.width ?? 0) * (p.height ?? 0);
  const sorted = [...withUri].sort((a, b) => area(b) - area(a));
  const main = sorted[0]?.streamUri ?? null;
  const last = sorted[sorted.length - 1]?.streamUri ?? null;
  return { rtspMain: main, rtspSub: sorted.length > 1 && last !== main ? last : null };
}

function defaultName(r: ScanResult): string {
  if (r.name) return r.name.slice(0, 100);
  const what = [r.manufacturer, r.model].filter(Boolean).join(' ') || 'ONVIF camera';
  const where = r.port && r.port !== 80 ? `${r.host}:${r.port}` : r.host;
  return `${what} ${where}`.slice(0, 100);
}

export async function discoveryRoutes(app: FastifyInstance, ctx: AppContext & { cameras: CameraRepo; scans: ScanManager }): Promise<void> {
  const { scans } = ctx;

  app.post<{ Body: ScanRequest }>('/api/discovery/scans', {
    config: { roles: INVENTORY_EDITORS },
    schema: {
      tags: ['discovery'],
      description: `Starts a scan in the background. range: from..to (IPv4, at most ${MAX_TARGETS} addresses) or hosts ["10.0.0.5", "10.0.0.6:8000"]; `
        + 'ports default [80, 8000, 8080]. multicast: a WS-Discovery probe on the local network. Progress: live feed topic discovery.progress.',
      body: scanBody,
      response: { 202: { type: 'object', properties: { id: { type: 'string' }, state: { type: 'string' } } }, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    let scan: Scan;
    try {
      scan = scans.start(request.body, user.username);
    } catch (err) {
      if (err instanceof ScanInputError) throw new HttpError(400, `Cannot start the scan: ${err.message}`);
      throw err;
    }
    const { mode, from, to, hosts, ports, discoveryPort } = request.body;
    await audit(ctx.db, {
      user, action: 'discovery.scan', targetType: 'scan', targetId: scan.id,
      detail: { mode, from, to, hosts: hosts?.slice(0, 50), hostCount: hosts?.length, ports, discoveryPort, withCredentials: Boolean(request.body.username) },
      ip: request.ip,
    });
    return reply.code(202).send({ id: scan.id, state: scan.state });
  });

  app.get('/api/discovery/scans', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['discovery'], response: { 200: listOf({ type: 'object', properties: scanSummaryProps }), ...commonErrors } },
  }, async () => {
    const items = scans.list().map(summary);
    return { items, total: items.length };
  });

  app.get<{ Params: { id: string } }>('/api/discovery/scans/:id', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['discovery'], params: idParam, response: { 200: scanReply, ...commonErrors } },
  }, async (request) => {
    const scan = scans.get(request.params.id);
    if (!scan) throw notFound('Scan (scans are kept for an hour on the server that ran them)');
    return withInventory(ctx.db, currentUser(request), scan);
  });

  app.delete<{ Params: { id: string } }>('/api/discovery/scans/:id', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['discovery'], params: idParam, response: { 200: { type: 'object', properties: scanSummaryProps }, ...commonErrors } },
  }, async (request) => {
    const scan = await scans.cancel(request.params.id);
    if (!scan) throw notFound('Scan');
    return summary(scan);
  });

  app.post<{ Params: { id: string }; Body: { devices: AddDevice[] } }>('/api/discovery/scans/:id/add', {
    config: { roles: INVENTORY_EDITORS },
    schema: {
      tags: ['discovery'],
      description: 'Adds devices found by the scan as cameras: ONVIF address, main stream = highest resolution profile, sub = lowest, '
        + 'with the given credentials (sealed; never returned). A device whose stream URIs the scan could not read (e.g. it had no '
        + 'or wrong credentials) is probed again with the credentials given here. All devices are added, or none.',
      params: idParam,
      body: addBody,
      response: { 201: listOf(cameraReply), 502: errorReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const scan = scans.get(request.params.id);
    if (!scan) throw notFound('Scan');
    const devices = request.body.devices;
    const errors: Record<string, string> = {};
    const inputs: Array<{ index: number; value: CameraInput; xaddr: string }> = [];
    const seen = new Set<string>();
    await Promise.all(devices.map(async (d, i) => {
      const key = `devices.${i}`;
      const xaddr = normaliseXaddr(d.xaddr);
      if (seen.has(xaddr)) { errors[key] = 'the same device is listed twice'; return; }
      seen.add(xaddr);
      let result = scan.results.find((r) => normaliseXaddr(r.xaddr) === xaddr);
      if (!result) { errors[key] = `${d.xaddr.slice(0, 200)} is not among this scan's results`; return; }
      if (!pickStreams(result).rtspMain) {
        // the scan could not read stream URIs (no or wrong credentials): try again with the ones given now
        const again = await probeOnvif({ xaddr: result.xaddr, username: d.username, password: d.password, callTimeoutMs: 4000 });
        if (!pickStreams(again).rtspMain) { errors[key] = `cannot read the stream addresses: ${again.error ?? 'the camera reports none'}`; return; }
        result = { ...result, ...again, via: result.via, authFailed: false };
      }
      const { xaddr: _x, ...meta } = d;
      const raw: CameraInput = { ...meta, name: d.name ?? defaultName(result), ...pickStreams(result), onvifUrl: result.xaddr };
      const { value, errors: fieldErrors } = validateCameraInput(raw, true);
      const problems = Object.entries(fieldErrors);
      if (problems.length) { errors[key] = problems.map(([f, m]) => `${f} ${m}`).join('; '); return; }
      inputs.push({ index: i, value, xaddr });
    }));
    if (Object.keys(errors).length) {
      throw new HttpError(400, 'Nothing was added: ' + Object.entries(errors).map(([k, m]) => `${k} (${devices[Number(k.split('.')[1])].xaddr.slice(0, 80)}): ${m}`).join('; '), errors);
    }
    inputs.sort((a, b) => a.index - b.index);
    const created = await ctx.db.tx(async (q) => {
      const clash: Record<string, string> = {};
      for (const { index, value } of inputs) {
        const r = await q.query<{ name: string; onvif: boolean; nid: boolean }>(
          `SELECT name, onvif_url = $2 AS onvif, national_id IS NOT DISTINCT FROM $3 AND $3 IS NOT NULL AS nid FROM cameras WHERE name = $1 OR onvif_url = $2 OR (national_id = $3 AND $3 IS NOT NULL) LIMIT 1`,
          [value.name, value.onvifUrl, value.nationalId ?? null]);
        const row = r.rows[0];
        if (row) clash[`devices.${index}`] = row.onvif ? 'this device is already in the inventory' : row.nid ? 'nationalId is already used by another camera' : `name "${value.name}" is already used by another camera`;
      }
      const names = inputs.map((x) => x.value.name);
      inputs.forEach((x, k) => { if (names.indexOf(x.value.name) !== k) clash[`devices.${x.index}`] = `name "${x.value.name}" is given twice`; });
      if (Object.keys(clash).length) throw new HttpError(409, 'Nothing was added: ' + Object.entries(clash).map(([k, m]) => `${k}: ${m}`).join('; '), clash);
      const out: Camera[] = [];
      for (const { value } of inputs) {
        const cam = await ctx.cameras.insert(q, value);
        await audit(q, { user, action: 'camera.create', targetType: 'camera', targetId: cam.id, detail: { name: cam.name, via: 'discovery', scanId: scan.id, onvifUrl: cam.onvifUrl }, ip: request.ip });
        out.push(cam);
      }
      return out;
    });
    publishCameraChange(ctx.bus, { kind: 'created', ids: created.map((cam) => cam.id) });
    return reply.code(201).send({ items: created, total: created.length });
  });
}
