/**
 * PTZ control of a camera for wall operators and the police:
 *   GET    /api/cameras/:id/ptz          → { available, reason, presets, position, moving, controller }
 *   POST   /api/cameras/:id/ptz/move     { pan, tilt, zoom, timeoutMs? } → 204   (continuous move, dead man's timeout)
 *   POST   /api/cameras/:id/ptz/stop     → 204
 *   POST   /api/cameras/:id/ptz/preset   { token } → 204                       (go to one of the camera's presets)
 *   DELETE /api/cameras/:id/ptz/lock     → 204                                 (hand the controls back)
 * Commands take the camera's control lock (ptz-lock.ts; 409 naming who holds it). Taking control and presets are
 * audited. A camera the user may not see is 404 on every route, as everywhere.
 *
 *   await app.register(ptzRoutes, node);   // node.ptz: the node's PTZ handle cache (both listeners share it)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NoPtzError, UnknownPresetError, type OnvifPtz } from '../../onvif/ptz.js';
import { OnvifCallError } from '../../onvif/client.js';
import { currentUser } from '../auth/guard.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, uuidParam } from '../http/schemas.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { acquirePtzLock, currentController, releasePtzLock } from './ptz-lock.js';
import type { PtzHandle, PtzService } from './ptz-service.js';
import { GbError } from '../../gb28181/server.js';

export const PTZ_ROLES: Role[] = ['admin', 'operator', 'police110'];

const velocity = { type: 'number', minimum: -1, maximum: 1 } as const;
const controllerReply = {
  type: ['object', 'null'],
  properties: { userId: { type: 'string' }, username: { type: 'string' }, role: { type: 'string' }, until: { type: 'string' } },
} as const;
const vector = { type: ['object', 'null'], properties: { pan: { type: 'number' }, tilt: { type: 'number' }, zoom: { type: 'number' } } } as const;
const cameraErrors = { ...commonErrors, 502: errorReply, 504: errorReply } as const;

/** A camera-side failure in words: 504 when it did not answer, 502 for anything else it did wrong. */
function cameraFailure(err: unknown): HttpError {
  if (err instanceof NoPtzError || err instanceof UnknownPresetError) return new HttpError(409, err.message);
  if (err instanceof OnvifCallError) return new HttpError(err.kind === 'timeout' ? 504 : 502, `PTZ: ${err.message}`);
  if (err instanceof GbError) return new HttpError(err.code === 'timeout' ? 504 : err.code === 'offline' ? 503 : 502, `PTZ (GB/T 28181): ${err.message}`);
  throw err;
}

export async function ptzRoutes(app: FastifyInstance, ctx: AppContext & { ptz: PtzService }): Promise<void> {
  const service = ctx.ptz;

  const visible = async (user: SessionUser, id: string): Promise<void> => {
    const r = await ctx.db.query(`SELECT 1 FROM cameras c WHERE c.id = $1 AND ${visibilityCondition(user)}`, [id]);
    if (!r.rowCount) throw notFound('Camera');
  };

  /** Takes (or renews) the controls for this user, or refuses naming the holder; taking them is audited and pushed. */
  const takeControl = async (request: FastifyRequest, user: SessionUser, id: string): Promise<void> => {
    const lock = await acquirePtzLock(ctx.db, id, user);
    if (!lock.ok) {
      const h = lock.holder;
      throw new HttpError(409, `PTZ is being controlled by ${h.username} (${h.role}) until ${h.until.slice(11, 19)} UTC; try again then`);
    }
    if (lock.fresh) {
      await audit(ctx.db, { user, action: 'ptz.control', targetType: 'camera', targetId: id, ip: request.ip });
      ctx.bus.publish('camera.ptz', { cameraId: id, controller: { userId: user.id, username: user.username, role: user.role, until: lock.until } }, id);
    }
  };

  const command = async (request: FastifyRequest<{ Params: { id: string } }>, fn: (ptz: PtzHandle) => Promise<void>) => {
    const user = currentUser(request);
    const { id } = request.params;
    await visible(user, id);
    await takeControl(request, user, id);
    try {
      await service.run(id, fn);
    } catch (err) {
      throw cameraFailure(err);
    }
  };

  app.get<{ Params: { id: string } }>('/api/cameras/:id/ptz', {
    config: { roles: PTZ_ROLES },
    schema: {
      tags: ['ptz'],
      summary: 'PTZ of a camera: whether it has one, its presets, position and who is steering it',
      params: uuidParam,
      response: {
        200: {
          type: 'object',
          properties: {
            available: { type: 'boolean' }, reason: { type: ['string', 'null'] },
            presets: { type: 'array', items: { type: 'object', properties: { token: { type: 'string' }, name: { type: 'string' } } } },
            position: vector, moving: { type: 'boolean' }, controller: controllerReply,
          },
          required: ['available', 'presets'],
        },
        ...cameraErrors,
      },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { id } = request.params;
    await visible(user, id);
    const controller = await currentController(ctx.db, id);
    try {
      const { presets, status } = await service.run(id, async (ptz) => ({ presets: await ptz.presets(), status: await ptz.status().catch(() => null) }));
      return { available: true, reason: null, presets, position: status?.position ?? null, moving: status?.moving ?? false, controller };
    } catch (err) {
      if (err instanceof NoPtzError) return { available: false, reason: err.message, presets: [], position: null, moving: false, controller: null };
      throw cameraFailure(err);
    }
  });

  app.post<{ Params: { id: string }; Body: { pan: number; tilt: number; zoom: number; timeoutMs?: number } }>('/api/cameras/:id/ptz/move', {
    config: { roles: PTZ_ROLES },
    schema: {
      tags: ['ptz'],
      summary: 'Continuous move at velocities -1…1; the camera stops by itself after timeoutMs (default 1000) unless the move is repeated',
      params: uuidParam,
      body: {
        type: 'object',
        properties: { pan: velocity, tilt: velocity, zoom: velocity, timeoutMs: { type: 'integer', minimum: 100, maximum: 10_000 } },
        required: ['pan', 'tilt', 'zoom'],
        additionalProperties: false,
      },
      response: { 204: { type: 'null' }, ...cameraErrors },
    },
  }, async (request, reply) => {
    const { pan, tilt, zoom, timeoutMs = 1000 } = request.body;
    await command(request, (ptz) => ptz.move({ pan, tilt, zoom }, timeoutMs));
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/cameras/:id/ptz/stop', {
    config: { roles: PTZ_ROLES },
    schema: { tags: ['ptz'], summary: 'Stops every pan, tilt and zoom movement', params: uuidParam, response: { 204: { type: 'null' }, ...cameraErrors } },
  }, async (request, reply) => {
    await command(request, (ptz) => ptz.stop());
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { token: string } }>('/api/cameras/:id/ptz/preset', {
    config: { roles: PTZ_ROLES },
    schema: {
      tags: ['ptz'],
      summary: 'Goes to one of the camera\'s presets (GET …/ptz lists them)',
      params: uuidParam,
      body: { type: 'object', properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } }, required: ['token'], additionalProperties: false },
      response: { 204: { type: 'null' }, ...cameraErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    await command(request, (ptz) => ptz.gotoPreset(request.body.token));
    await audit(ctx.db, { user, action: 'ptz.preset', targetType: 'camera', targetId: request.params.id, detail: { token: request.body.token }, ip: request.ip });
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string } }>('/api/cameras/:id/ptz/lock', {
    config: { roles: PTZ_ROLES },
    schema: { tags: ['ptz'], summary: 'Hands the PTZ controls back', params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params;
    await visible(user, id);
    if (await releasePtzLock(ctx.db, id, user.id)) ctx.bus.publish('camera.ptz', { cameraId: id, controller: null }, id);
    return reply.code(204).send();
  });
}
