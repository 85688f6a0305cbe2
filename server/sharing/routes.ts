import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { publishCameraChange } from '../bus.js';
import { currentUser } from '../auth/guard.js';
import { SHARING_DECIDERS } from '../auth/roles.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { commonErrors, listOf, paging, uuidParam } from '../http/schemas.js';

const str = { type: ['string', 'null'] } as const;
const accessItem = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, cameraId: { type: 'string' }, cameraName: { type: 'string' }, sharing: { type: 'string' }, userId: str, username: str,
    kind: { type: 'string' }, startedAt: { type: 'string' }, endedAt: str, ip: str,
  },
} as const;
const accessQuery = {
  type: 'object',
  properties: {
    username: { type: 'string', maxLength: 64 }, kind: { type: 'string', enum: ['live', 'snapshot', 'evidence'] },
    sharing: { type: 'string', enum: ['shared', 'restricted'] },
    from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, ...paging,
  },
  additionalProperties: false,
} as const;

interface AccessFilters { cameraId?: string; username?: string; kind?: string; sharing?: string; from?: string; to?: string; limit: number; offset: number }

/**
 * Police camera sharing: police110 and admin mark cameras shared or restricted, one or many at a time, and see who
 * watched which camera when (camera_view_log, written by recordCameraAccess). Restricted cameras are hidden from
 * the other roles everywhere (inventory/camera-repo.ts visibilityCondition; live push drops their messages).
 */
export async function sharingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.patch<{ Body: { ids: string[]; sharing: 'shared' | 'restricted' } }>('/api/cameras/sharing', {
    config: { roles: SHARING_DECIDERS },
    schema: {
      tags: ['sharing'],
      description: 'Bulk: mark cameras shared or restricted.',
      body: {
        type: 'object',
        properties: {
          ids: { type: 'array', items: { type: 'string', format: 'uuid' }, minItems: 1, maxItems: 1000, uniqueItems: true },
          sharing: { type: 'string', enum: ['shared', 'restricted'] },
        },
        required: ['ids', 'sharing'],
        additionalProperties: false,
      },
      response: {
        200: { type: 'object', properties: { updated: { type: 'integer' }, unchanged: { type: 'integer' }, notFound: { type: 'array', items: { type: 'string' } } } },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { ids, sharing } = request.body;
    const result = await ctx.db.tx(async (q) => {
      const existing = await q.query<{ id: string; name: string; sharing: string }>('SELECT id, name, sharing FROM cameras WHERE id = ANY($1::uuid[]) FOR UPDATE', [ids]);
      const changed = existing.rows.filter((c) => c.sharing !== sharing);
      if (changed.length) {
        await q.query('UPDATE cameras SET sharing = $2, updated_at = now() WHERE id = ANY($1::uuid[])', [changed.map((c) => c.id), sharing]);
      }
      for (const c of changed) {
        await audit(q, { user, action: 'camera.sharing', targetType: 'camera', targetId: c.id, detail: { name: c.name, from: c.sharing, to: sharing, bulk: ids.length > 1 }, ip: request.ip });
      }
      const found = new Set(existing.rows.map((c) => c.id));
      return { changed, notFound: ids.filter((id) => !found.has(id)) };
    });
    // one message per camera (with its cameraId): the live push applies each camera's new visibility at once
    for (const c of result.changed) publishCameraChange(ctx.bus, { kind: 'sharing', ids: [c.id], sharing });
    return { updated: result.changed.length, unchanged: ids.length - result.changed.length - result.notFound.length, notFound: result.notFound };
  });

  const listAccess = async (f: AccessFilters) => {
    const where = ['TRUE'];
    const params: unknown[] = [];
    const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
    if (f.cameraId) add((n) => `v.camera_id = $${n}`, f.cameraId);
    if (f.username) add((n) => `v.username = $${n}`, f.username);
    if (f.kind) add((n) => `v.kind = $${n}`, f.kind);
    if (f.sharing) add((n) => `c.sharing = $${n}`, f.sharing);
    if (f.from) add((n) => `v.started_at >= $${n}`, new Date(f.from));
    if (f.to) add((n) => `v.started_at < $${n}`, new Date(f.to));
    const clause = where.join(' AND ');
    const rows = await ctx.db.query(
      `SELECT v.id, v.camera_id AS "cameraId", c.name AS "cameraName", c.sharing, v.user_id AS "userId", v.username, v.kind,
              v.started_at AS "startedAt", v.ended_at AS "endedAt", v.ip
         FROM camera_view_log v JOIN cameras c ON c.id = v.camera_id
        WHERE ${clause} ORDER BY v.started_at DESC, v.id DESC LIMIT ${f.limit} OFFSET ${f.offset}`, params);
    const count = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM camera_view_log v JOIN cameras c ON c.id = v.camera_id WHERE ${clause}`, params);
    return { items: rows.rows, total: count.rows[0].n };
  };

  app.get<{ Params: { id: string }; Querystring: AccessFilters }>('/api/cameras/:id/viewers', {
    config: { roles: SHARING_DECIDERS },
    schema: { tags: ['sharing'], description: 'Who watched this camera (live, snapshot, evidence) and when.', params: uuidParam, querystring: accessQuery, response: { 200: listOf(accessItem), ...commonErrors } },
  }, async (request) => {
    const cam = await ctx.db.query('SELECT 1 FROM cameras WHERE id = $1', [request.params.id]);
    if (!cam.rowCount) throw notFound('Camera');
    return listAccess({ ...request.query, cameraId: request.params.id });
  });

  app.get<{ Querystring: AccessFilters }>('/api/camera-access', {
    config: { roles: SHARING_DECIDERS },
    schema: { tags: ['sharing'], description: 'Every camera access, newest first; sharing=restricted for the police cameras.', querystring: accessQuery, response: { 200: listOf(accessItem), ...commonErrors } },
  }, async (request) => listAccess(request.query));
}
