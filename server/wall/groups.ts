/**
 * Camera groups (a named camera list; a group is also what a tour rotates through) and favourites.
 *   GET/POST /api/camera-groups, GET/PATCH/DELETE /api/camera-groups/:id
 *   GET/POST /api/favourites, DELETE /api/favourites/:cameraId
 * A group is the owner's, or shared with every wall user. Only the owner or an admin changes it. Camera ids
 * the reader may not see are left out of what they read, and kept when they write.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, listOf, uuidParam } from '../http/schemas.js';
import type { Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { assertCamerasVisible, conflictOnDuplicateName, nameSchema, scopeClause, scopeQuery, uuid, visibleCameraIds, visibleToMe, WALL_ROLES } from './common.js';

import type { CameraGroup } from './wall-types.js';

export type { CameraGroup };

interface GroupRow { id: string; name: string; cameraIds: string[]; tourIntervalS: number; shared: boolean; owner: string; ownerId: string; createdAt: string; updatedAt: string }

const GROUP_COLUMNS = `g.id, g.name, g.camera_ids AS "cameraIds", g.tour_interval_s AS "tourIntervalS", g.shared, u.username AS owner,
  g.owner_id AS "ownerId", g.created_at AS "createdAt", g.updated_at AS "updatedAt"`;

export const groupReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, cameraIds: { type: 'array', items: { type: 'string' } }, tourIntervalS: { type: 'integer' },
    shared: { type: 'boolean' }, owner: { type: 'string' }, mine: { type: 'boolean' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;

const groupBody = {
  type: 'object',
  properties: {
    name: nameSchema,
    cameraIds: { type: 'array', items: uuid, maxItems: 500, uniqueItems: true },
    tourIntervalS: { type: 'integer', minimum: 3, maximum: 3600 },
    shared: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

interface GroupBody { name?: string; cameraIds?: string[]; tourIntervalS?: number; shared?: boolean }

async function present(q: Queryable, user: SessionUser, rows: GroupRow[]): Promise<CameraGroup[]> {
  const visible = await visibleCameraIds(q, user, rows.flatMap((r) => r.cameraIds));
  return rows.map(({ ownerId, ...r }) => ({ ...r, cameraIds: r.cameraIds.filter((id) => visible.has(id)), mine: ownerId === user.id }));
}

/** A group this user may read (own or shared), or null. */
export async function readableGroup(q: Queryable, user: SessionUser, id: string): Promise<CameraGroup | null> {
  const res = await q.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM camera_groups g JOIN users u ON u.id = g.owner_id WHERE g.id = $1 AND ${visibleToMe('g', 2)}`, [id, user.id]);
  return res.rows[0] ? (await present(q, user, res.rows))[0] : null;
}

async function writableGroup(q: Queryable, user: SessionUser, id: string): Promise<GroupRow> {
  const res = await q.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM camera_groups g JOIN users u ON u.id = g.owner_id WHERE g.id = $1 AND ${visibleToMe('g', 2)} FOR UPDATE OF g`, [id, user.id]);
  const row = res.rows[0];
  if (!row) throw notFound('Camera group');
  if (row.ownerId !== user.id && user.role !== 'admin') throw new HttpError(403, 'Only the owner or an admin may change a shared group');
  return row;
}

export async function groupRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { scope: 'all' | 'mine' | 'shared' } }>('/api/camera-groups', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], summary: 'Camera groups: mine and shared', querystring: scopeQuery, response: { 200: listOf(groupReply), ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const res = await ctx.db.query<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM camera_groups g JOIN users u ON u.id = g.owner_id WHERE ${scopeClause('g', request.query.scope, 1)} ORDER BY g.name, g.id`, [user.id]);
    const items = await present(ctx.db, user, res.rows);
    return { items, total: items.length };
  });

  app.get<{ Params: { id: string } }>('/api/camera-groups/:id', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], params: uuidParam, response: { 200: groupReply, ...commonErrors } },
  }, async (request) => {
    const g = await readableGroup(ctx.db, currentUser(request), request.params.id);
    if (!g) throw notFound('Camera group');
    return g;
  });

  app.post<{ Body: Required<Pick<GroupBody, 'name'>> & GroupBody }>('/api/camera-groups', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], body: { ...groupBody, required: ['name'] }, response: { 201: groupReply, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const b = request.body;
    const group = await ctx.db.tx(async (q) => {
      await assertCamerasVisible(q, user, b.cameraIds ?? [], 'cameraIds');
      const res = await q.query<{ id: string }>(
        `INSERT INTO camera_groups (owner_id, name, camera_ids, tour_interval_s, shared) VALUES ($1, $2, $3::uuid[], $4, $5) RETURNING id`,
        [user.id, b.name.trim(), b.cameraIds ?? [], b.tourIntervalS ?? 15, b.shared ?? false]).catch((e) => conflictOnDuplicateName(e, 'group'));
      await audit(q, { user, action: 'wall.group.create', targetType: 'camera_group', targetId: res.rows[0].id, detail: { name: b.name, cameras: b.cameraIds?.length ?? 0, shared: b.shared ?? false }, ip: request.ip });
      return (await readableGroup(q, user, res.rows[0].id))!;
    });
    return reply.code(201).send(group);
  });

  app.patch<{ Params: { id: string }; Body: GroupBody }>('/api/camera-groups/:id', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], params: uuidParam, body: { ...groupBody, minProperties: 1 }, response: { 200: groupReply, ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const b = request.body;
    return ctx.db.tx(async (q) => {
      const row = await writableGroup(q, user, request.params.id);
      let cameraIds: string[] | undefined;
      if (b.cameraIds) {
        await assertCamerasVisible(q, user, b.cameraIds, 'cameraIds');
        // cameras the writer cannot see stay in the group (they were put there by someone who could)
        const seen = await visibleCameraIds(q, user, row.cameraIds);
        cameraIds = [...b.cameraIds, ...row.cameraIds.filter((id) => !seen.has(id) && !b.cameraIds!.includes(id))];
      }
      await q.query(
        `UPDATE camera_groups SET name = coalesce($2, name), camera_ids = coalesce($3::uuid[], camera_ids), tour_interval_s = coalesce($4, tour_interval_s),
                shared = coalesce($5, shared), updated_at = now() WHERE id = $1`,
        [row.id, b.name?.trim() ?? null, cameraIds ?? null, b.tourIntervalS ?? null, b.shared ?? null]).catch((e) => conflictOnDuplicateName(e, 'group'));
      await audit(q, { user, action: 'wall.group.update', targetType: 'camera_group', targetId: row.id, detail: { name: row.name, changed: Object.keys(b) }, ip: request.ip });
      return (await readableGroup(q, user, row.id))!;
    });
  });

  app.delete<{ Params: { id: string } }>('/api/camera-groups/:id', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    await ctx.db.tx(async (q) => {
      const row = await writableGroup(q, user, request.params.id);
      await q.query('DELETE FROM camera_groups WHERE id = $1', [row.id]);
      // presets that ran this group as their tour keep their cameras and lose the tour
      await q.query(`UPDATE wall_presets SET tour = NULL, updated_at = now() WHERE tour->>'groupId' = $1`, [row.id]);
      await audit(q, { user, action: 'wall.group.delete', targetType: 'camera_group', targetId: row.id, detail: { name: row.name }, ip: request.ip });
    });
    return reply.code(204).send();
  });

  // ---- favourites ----
  const favReply = { type: 'object', properties: { cameraId: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string' } } } as const;

  app.get('/api/favourites', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], summary: 'My favourite cameras (visible ones only)', response: { 200: listOf(favReply), ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const res = await ctx.db.query(
      `SELECT f.camera_id AS "cameraId", c.name, f.created_at AS "createdAt" FROM favourites f JOIN cameras c ON c.id = f.camera_id
        WHERE f.user_id = $1 AND ${visibilityCondition(user)} ORDER BY c.name`, [user.id]);
    return { items: res.rows, total: res.rows.length };
  });

  app.post<{ Body: { cameraId: string } }>('/api/favourites', {
    config: { roles: WALL_ROLES },
    schema: {
      tags: ['wall'],
      body: { type: 'object', properties: { cameraId: uuid }, required: ['cameraId'], additionalProperties: false },
      response: { 201: favReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { cameraId } = request.body;
    if (!(await visibleCameraIds(ctx.db, user, [cameraId])).has(cameraId)) throw notFound('Camera');
    await ctx.db.query('INSERT INTO favourites (user_id, camera_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [user.id, cameraId]);
    const res = await ctx.db.query(
      `SELECT f.camera_id AS "cameraId", c.name, f.created_at AS "createdAt" FROM favourites f JOIN cameras c ON c.id = f.camera_id WHERE f.user_id = $1 AND f.camera_id = $2`,
      [user.id, cameraId]);
    return reply.code(201).send(res.rows[0]);
  });

  app.delete<{ Params: { cameraId: string } }>('/api/favourites/:cameraId', {
    config: { roles: WALL_ROLES },
    schema: {
      tags: ['wall'],
      params: { type: 'object', properties: { cameraId: uuid }, required: ['cameraId'], additionalProperties: false },
      response: { 204: { type: 'null' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const res = await ctx.db.query('DELETE FROM favourites WHERE user_id = $1 AND camera_id = $2', [user.id, request.params.cameraId]);
    if (!res.rowCount) throw notFound('Favourite');
    return reply.code(204).send();
  });
}
