/**
 * Fleet health API:
 *   GET  /api/fleet/summary                 online rate overall / by district / by owner, statuses, flapping, clock drift
 *   GET  /api/fleet/cameras                 per-camera status and last health probe (the fleet page's list)
 *   GET  /api/cameras/:id/status-history    status timeline of one camera
 *   POST /api/cameras/:id/probe             probe a camera now (ONVIF device info, profiles, stream URIs, clock drift)
 * and the fleet's Prometheus metrics on the app's registry.
 *
 *   await app.register(fleetRoutes, { ...node, metrics });   // node.fleet: the node's fleet-health subsystem
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import type { Role } from '../auth/roles.js';
import { INVENTORY_EDITORS } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, paging, uuidParam } from '../http/schemas.js';
import type { FleetHealth } from './service.js';
import { fleetCameras, fleetSummary, statusHistory, type FleetCameraFilters } from './fleet-repo.js';
import { probeCamera, toOutcome } from './probe.js';
import { registerFleetMetrics } from './metrics.js';

/** Who may look at fleet health (restricted cameras still only for admin and police110). */
export const FLEET_VIEWERS: Role[] = ['admin', 'technician', 'operator', 'police110'];

const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const rateProps = { total: { type: 'integer' }, online: { type: 'integer' }, onlineRate: nullableNumber } as const;

const summaryReply = {
  type: 'object',
  properties: {
    ...rateProps,
    byDistrict: { type: 'array', items: { type: 'object', properties: { district: nullableString, ...rateProps } } },
    byOwner: { type: 'array', items: { type: 'object', properties: { owner: nullableString, ...rateProps } } },
    byStatus: { type: 'object', additionalProperties: { type: 'integer' } },
    flapping: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          cameraId: { type: 'string' }, name: { type: 'string' }, district: nullableString, owner: nullableString, status: { type: 'string' },
          transitions: { type: 'integer' }, lastChangeAt: { type: 'string' },
        },
      },
    },
    clockDrift: {
      type: 'array',
      items: { type: 'object', properties: { cameraId: { type: 'string' }, name: { type: 'string' }, clockDriftMs: { type: 'integer' }, checkedAt: { type: 'string' } } },
    },
    definition: {
      type: 'object',
      properties: {
        online: { type: 'array', items: { type: 'string' } }, flapTransitions: { type: 'integer' }, flapWindowMin: { type: 'integer' }, driftWarnMs: { type: 'integer' },
      },
    },
    at: { type: 'string' },
  },
} as const;

const healthReply = {
  type: ['object', 'null'],
  properties: {
    checkedAt: { type: 'string' }, method: { type: 'string' }, reachable: { type: 'boolean' }, error: nullableString,
    clockDriftMs: { type: ['integer', 'null'] }, rttMs: { type: ['integer', 'null'] },
  },
} as const;

const fleetCameraReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, district: nullableString, owner: nullableString, status: { type: 'string' },
    statusReason: nullableString, statusChangedAt: nullableString, lastSeenAt: nullableString, online: { type: 'boolean' }, health: healthReply,
  },
} as const;

export const profileReply = {
  type: 'object',
  properties: {
    token: { type: 'string' }, name: { type: 'string' }, width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] },
    encoding: nullableString, streamUri: nullableString,
  },
} as const;

const probeReply = {
  type: 'object',
  properties: {
    cameraId: { type: 'string' }, at: { type: 'string' }, method: { type: 'string', enum: ['onvif', 'rtsp', 'none'] },
    reachable: { type: 'boolean' }, authFailed: { type: 'boolean' }, error: nullableString, status: { type: 'string' },
    clockDriftMs: { type: ['integer', 'null'] }, deviceTime: nullableString, rttMs: { type: ['integer', 'null'] },
    manufacturer: nullableString, model: nullableString, firmware: nullableString, serial: nullableString, hardwareId: nullableString,
    hasPtz: { type: 'boolean' }, profiles: { type: 'array', items: profileReply }, snapshotUri: nullableString,
  },
} as const;

export async function fleetRoutes(app: FastifyInstance, ctx: AppContext & { cameras: CameraRepo; fleet: FleetHealth; metrics?: Registry }): Promise<void> {
  const { fleet } = ctx;
  if (ctx.metrics) registerFleetMetrics(ctx.metrics, ctx.db, fleet);

  app.get<{ Querystring: { flapWindowMin?: number; flapTransitions?: number } }>('/api/fleet/summary', {
    config: { roles: FLEET_VIEWERS },
    schema: {
      tags: ['fleet'],
      description: 'Online rate (在线率) = cameras whose status is live or reachable / all cameras you may see. '
        + 'Flapping = at least flapTransitions online/offline changes of one stream within flapWindowMin minutes.',
      querystring: {
        type: 'object',
        properties: { flapWindowMin: { type: 'integer', minimum: 1, maximum: 10080 }, flapTransitions: { type: 'integer', minimum: 2, maximum: 1000 } },
        additionalProperties: false,
      },
      response: { 200: summaryReply, ...commonErrors },
    },
  }, async (request) => {
    const s = fleet.settings;
    return fleetSummary(ctx.db, currentUser(request), {
      flapWindowMin: request.query.flapWindowMin ?? s.flapWindowMin,
      flapTransitions: request.query.flapTransitions ?? s.flapTransitions,
      driftWarnMs: s.driftWarnMs,
    });
  });

  app.get<{ Querystring: FleetCameraFilters }>('/api/fleet/cameras', {
    config: { roles: FLEET_VIEWERS },
    schema: {
      tags: ['fleet'],
      querystring: {
        type: 'object',
        properties: {
          q: { type: 'string', maxLength: 100 }, status: { type: 'string', maxLength: 32 }, district: { type: 'string', maxLength: 50 },
          owner: { type: 'string', maxLength: 100 }, online: { type: 'boolean' }, ...paging,
        },
        additionalProperties: false,
      },
      response: { 200: listOf(fleetCameraReply), ...commonErrors },
    },
  }, async (request) => fleetCameras(ctx.db, currentUser(request), request.query));

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; limit: number; offset: number } }>('/api/cameras/:id/status-history', {
    config: { roles: FLEET_VIEWERS },
    schema: {
      tags: ['fleet'],
      params: uuidParam,
      querystring: {
        type: 'object',
        properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, ...paging },
        additionalProperties: false,
      },
      response: {
        200: listOf({ type: 'object', properties: { at: { type: 'string' }, stream: { type: 'string' }, status: { type: 'string' }, reason: nullableString } }),
        ...commonErrors,
      },
    },
  }, async (request) => {
    const cam = await ctx.cameras.getVisible(ctx.db, currentUser(request), request.params.id);
    if (!cam) throw notFound('Camera');
    return statusHistory(ctx.db, cam.id, request.query);
  });

  app.post<{ Params: { id: string } }>('/api/cameras/:id/probe', {
    config: { roles: INVENTORY_EDITORS },
    schema: {
      tags: ['fleet'],
      description: 'Probes the camera now with its stored credentials (never returned): ONVIF device information, profiles, '
        + 'stream URIs and clock drift, or an RTSP OPTIONS round trip for cameras without ONVIF. The result is recorded as health.',
      params: uuidParam,
      response: { 200: probeReply, 503: errorReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const cam = await ctx.cameras.getVisible(ctx.db, user, request.params.id);
    if (!cam) throw notFound('Camera');
    const creds = await ctx.cameras.credentials(ctx.db, cam.id);
    const result = await probeCamera(cam, creds, { full: true, timeoutMs: fleet.settings.checkTimeoutMs });
    const { status } = await fleet.recorder.recordProbe(cam.id, toOutcome(result, true));
    await audit(ctx.db, { user, action: 'camera.probe', targetType: 'camera', targetId: cam.id, detail: { name: cam.name, reachable: result.reachable, method: result.method }, ip: request.ip });
    return { ...result, status };
  });
}
