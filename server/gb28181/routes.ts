/**
 * GB/T 28181 API (technicians and admins):
 *   GET    /api/gb28181/status                         server ID, realm, SIP port, devices online, counters
 *   GET    /api/gb28181/devices                        registered and expected devices / lower platforms
 *   PUT    /api/gb28181/devices/:deviceId              expect a device: name, its own password (sealed) or null for the platform's, enabled
 *   DELETE /api/gb28181/devices/:deviceId
 *   POST   /api/gb28181/devices/:deviceId/catalog      query the catalog now (imported in one transaction when complete)
 *   GET    /api/gb28181/devices/:deviceId/info         DeviceInfo + DeviceStatus asked of the device now
 *   GET    /api/gb28181/channels                       catalog items (filter by device, kind, approved, text)
 *   POST   /api/gb28181/channels/approve               channels into the inventory (cameras), one transaction
 * Playback of the channels' own recordings (RecordInfo, s=Playback, MANSRTSP): playback-routes.ts.
 * Metrics: streeteye_gb28181_events_total{event} (registrations, refusals, drops, keepalives...), streeteye_gb28181_devices_online.
 */
import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { INVENTORY_EDITORS } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors } from '../http/schemas.js';
import { GbError } from '../../gb28181/server.js';
import type { GbService } from './service.js';
import { publishCameraChange } from '../bus.js';
import { approveChannels } from './approve.js';
import { gbPlaybackRoutes } from './playback-routes.js';

const deviceParam = {
  type: 'object',
  properties: { deviceId: { type: 'string', pattern: '^[0-9]{20}$' } },
  required: ['deviceId'],
  additionalProperties: false,
} as const;

function gbHttpError(err: unknown): never {
  if (err instanceof GbError) {
    if (err.code === 'offline') throw new HttpError(409, `设备未注册或离线 / the device is not registered or offline`);
    if (err.code === 'timeout') throw new HttpError(504, `设备未应答 / the device did not answer: ${err.message}`);
    if (err.code === 'incomplete') throw new HttpError(502, `目录不完整，未导入 / catalog incomplete, nothing imported: ${err.message}`);
    throw new HttpError(502, `设备拒绝 / the device refused: ${err.message}`);
  }
  throw err;
}

export async function gbRoutes(app: FastifyInstance, ctx: AppContext & { gb: GbService; metrics?: Registry }): Promise<void> {
  const { gb } = ctx;
  const roles = INVENTORY_EDITORS;
  await app.register(gbPlaybackRoutes, ctx);

  if (ctx.metrics && !ctx.metrics.getSingleMetric('streeteye_gb28181_events_total')) {
    new Gauge({
      name: 'streeteye_gb28181_events_total', help: 'GB/T 28181 SIP and media events on this node (registrations, refusals, drops, keepalives)',
      labelNames: ['event'], registers: [ctx.metrics],
      collect() { for (const [k, v] of Object.entries(gb.counters)) this.set({ event: k }, v); },
    });
    new Gauge({
      name: 'streeteye_gb28181_devices_online', help: 'GB/T 28181 devices registered and online on this node', registers: [ctx.metrics],
      collect() { let n = 0; for (const r of gb.server.registrations.values()) if (r.online) n++; this.set(n); },
    });
  }

  app.get('/api/gb28181/status', { config: { roles }, schema: { summary: 'GB/T 28181 SIP server state' } }, async () => {
    let online = 0;
    for (const r of gb.server.registrations.values()) if (r.online) online++;
    return {
      enabled: gb.settings.enabled, serverId: gb.settings.serverId, realm: gb.settings.realm, sipPort: gb.server.port || gb.settings.sipPort,
      advertiseHost: gb.settings.advertiseHost, mediaTransport: gb.settings.mediaTransport, platformPassword: Boolean(gb.settings.password),
      acceptNew: gb.settings.acceptNew, registered: gb.server.registrations.size, online, streams: gb.streams(), counters: gb.counters,
      cascade: gb.cascade?.status() ?? null, playbacks: gb.playback.list().length,
    };
  });

  app.get('/api/gb28181/devices', { config: { roles }, schema: { summary: 'GB/T 28181 devices and lower platforms' } }, async () => {
    const items = await gb.repo.devices(ctx.db);
    return { items, total: items.length };
  });

  app.put<{ Params: { deviceId: string }; Body: { name?: string | null; password?: string | null; enabled?: boolean } }>('/api/gb28181/devices/:deviceId', {
    config: { roles },
    schema: {
      summary: 'Expect a GB/T 28181 device: its name, its own password (or null for the platform password), enabled',
      params: deviceParam,
      body: {
        type: 'object',
        properties: {
          name: { type: ['string', 'null'], maxLength: 100 },
          password: { type: ['string', 'null'], minLength: 6, maxLength: 64 },
          enabled: { type: 'boolean' },
        },
        additionalProperties: false,
      },
      response: commonErrors,
    },
  }, async (request) => {
    const user = currentUser(request);
    const { deviceId } = request.params;
    const b = request.body ?? {};
    if (b.password === null && !gb.settings.password) throw new HttpError(400, '未配置平台统一密码 (GB28181_PASSWORD)，设备须有自己的密码 / no platform password is configured: the device needs its own', { password: 'is required' });
    await ctx.db.tx(async (q) => {
      const before = await gb.repo.device(q, deviceId);
      if (!before && b.password === undefined && !gb.settings.password) throw new HttpError(400, '新设备须设置密码 / a new device needs a password (no platform password is configured)', { password: 'is required' });
      await gb.repo.upsertDevice(q, { deviceId, name: b.name, password: b.password, enabled: b.enabled });
      await audit(q, { user, action: before ? 'gb28181.device.update' : 'gb28181.device.create', targetType: 'gb_device', targetId: deviceId, detail: { name: b.name, passwordChanged: b.password !== undefined, enabled: b.enabled }, ip: request.ip });
    });
    ctx.bus.publish('gb.device.changed', { deviceId });
    return gb.repo.device(ctx.db, deviceId);
  });

  app.delete<{ Params: { deviceId: string } }>('/api/gb28181/devices/:deviceId', { config: { roles }, schema: { params: deviceParam } }, async (request, reply) => {
    const user = currentUser(request);
    const ok = await ctx.db.tx(async (q) => {
      const done = await gb.repo.deleteDevice(q, request.params.deviceId);
      if (done) await audit(q, { user, action: 'gb28181.device.delete', targetType: 'gb_device', targetId: request.params.deviceId, ip: request.ip });
      return done;
    });
    if (!ok) throw notFound('GB/T 28181 device');
    ctx.bus.publish('gb.device.changed', { deviceId: request.params.deviceId });
    return reply.code(204).send();
  });

  app.post<{ Params: { deviceId: string } }>('/api/gb28181/devices/:deviceId/catalog', { config: { roles }, schema: { summary: 'Query the catalog now', params: deviceParam } }, async (request) => {
    if (!(await gb.repo.device(ctx.db, request.params.deviceId))) throw notFound('GB/T 28181 device');
    try {
      return await gb.refreshCatalog(request.params.deviceId);
    } catch (err) {
      return gbHttpError(err);
    }
  });

  app.get<{ Params: { deviceId: string } }>('/api/gb28181/devices/:deviceId/info', { config: { roles }, schema: { summary: 'DeviceInfo and DeviceStatus, asked now', params: deviceParam } }, async (request) => {
    if (!(await gb.repo.device(ctx.db, request.params.deviceId))) throw notFound('GB/T 28181 device');
    try {
      const [info, status] = await Promise.all([gb.server.deviceInfo(request.params.deviceId), gb.server.deviceStatus(request.params.deviceId)]);
      return { info, status };
    } catch (err) {
      return gbHttpError(err);
    }
  });

  app.get<{ Querystring: { deviceId?: string; kind?: string; approved?: boolean; q?: string; limit: number; offset: number } }>('/api/gb28181/channels', {
    config: { roles },
    schema: {
      querystring: {
        type: 'object',
        properties: {
          deviceId: { type: 'string', pattern: '^[0-9]{20}$' },
          kind: { type: 'string', enum: ['camera', 'device', 'platform', 'group', 'org', 'civil', 'alarm', 'other'] },
          approved: { type: 'boolean' },
          q: { type: 'string', maxLength: 100 },
          limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
          offset: { type: 'integer', minimum: 0, default: 0 },
        },
        additionalProperties: false,
      },
    },
  }, async (request) => gb.repo.channels(ctx.db, request.query));

  app.post<{ Body: { deviceId: string; channelIds: string[]; sharing?: 'shared' | 'restricted' } }>('/api/gb28181/channels/approve', {
    config: { roles },
    schema: {
      summary: 'Approve channels into the inventory (cameras with their 20-digit IDs); one transaction',
      body: {
        type: 'object',
        properties: {
          deviceId: { type: 'string', pattern: '^[0-9]{20}$' },
          channelIds: { type: 'array', minItems: 1, maxItems: 10_000, items: { type: 'string', pattern: '^[0-9]{20}$' } },
          sharing: { type: 'string', enum: ['shared', 'restricted'] },
        },
        required: ['deviceId', 'channelIds'],
        additionalProperties: false,
      },
      response: commonErrors,
    },
  }, async (request) => {
    const user = currentUser(request);
    const r = await approveChannels(ctx.db, user, request.body, request.ip);
    publishCameraChange(ctx.bus, { kind: 'created', ids: r.cameras.map((c) => c.cameraId) });
    // the device's online state is the new cameras' status until someone watches them
    if (gb.server.isOnline(request.body.deviceId)) {
      await ctx.db.query(`UPDATE cameras SET status = 'reachable', status_changed_at = now() WHERE id = ANY($1::uuid[]) AND status = 'unknown'`, [r.cameras.map((c) => c.cameraId)]);
    }
    return r;
  });
}
