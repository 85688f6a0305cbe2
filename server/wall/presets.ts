/**
 * Saved wall presets: layout, the camera of each tile, and the tour that runs on the wall.
 *   GET/POST /api/wall/presets, GET/PATCH/DELETE /api/wall/presets/:id
 * A preset is the owner's, or shared with every wall user; only the owner or an admin changes or deletes it.
 * Tiles holding a camera the reader may not see read as empty; a tour over a group the reader may not read
 * reads as no tour.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, listOf, uuidParam } from '../http/schemas.js';
import type { Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { readableGroup } from './groups.js';
import {
  assertCamerasVisible, conflictOnDuplicateName, LAYOUTS, nameSchema, scopeClause, scopeQuery, TILES_OF, uuid, visibleCameraIds, visibleToMe, WALL_ROLES,
  type Layout,
} from './common.js';

import type { Tour } from './wall-types.js';

export type { Tour };
interface PresetRow {
  id: string; name: string; layout: Layout; cameras: (string | null)[]; tour: Tour | null; shared: boolean;
  owner: string; ownerId: string; createdAt: string; updatedAt: string;
}

const COLUMNS = `p.id, p.name, p.layout, p.cameras, p.tour, p.shared, u.username AS owner, p.owner_id AS "ownerId",
  p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;

const tourSchema = {
  type: ['object', 'null'],
  properties: { groupId: uuid, intervalS: { type: 'integer', minimum: 3, maximum: 3600 } },
  required: ['groupId', 'intervalS'],
  additionalProperties: false,
} as const;

const presetReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, layout: { type: 'string' },
    cameras: { type: 'array', items: { type: ['string', 'null'] } },
    tour: { type: ['object', 'null'], properties: { groupId: { type: 'string' }, intervalS: { type: 'integer' } } },
    shared: { type: 'boolean' }, owner: { type: 'string' }, mine: { type: 'boolean' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;

const presetBody = {
  type: 'object',
  properties: {
    name: nameSchema,
    layout: { type: 'string', enum: [...LAYOUTS] },
    cameras: { type: 'array', maxItems: 64, items: { anyOf: [uuid, { type: 'null' }] } },
    tour: tourSchema,
    shared: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

interface PresetBody { name?: string; layout?: Layout; cameras?: (string | null)[]; tour?: Tour | null; shared?: boolean }

async function present(q: Queryable, user: SessionUser, rows: PresetRow[]) {
  const visible = await visibleCameraIds(q, user, rows.flatMap((r) => r.cameras));
  const out = [];
  for (const { ownerId, ...r } of rows) {
    const tour = r.tour && (await readableGroup(q, user, r.tour.groupId)) ? r.tour : null;
    out.push({ ...r, tour, cameras: r.cameras.map((id) => (id && visible.has(id) ? id : null)), mine: ownerId === user.id });
  }
  return out;
}

async function readable(q: Queryable, user: SessionUser, id: string) {
  const res = await q.query<PresetRow>(`SELECT ${COLUMNS} FROM wall_presets p JOIN users u ON u.id = p.owner_id WHERE p.id = $1 AND ${visibleToMe('p', 2)}`, [id, user.id]);
  return res.rows[0] ? (await present(q, user, res.rows))[0] : null;
}

/** The new cameras fit the layout and are visible to the writer; the tour's group is one they may read. */
async function check(q: Queryable, user: SessionUser, layout: Layout, cameras: (string | null)[], tour: Tour | null | undefined): Promise<void> {
  if (cameras.length > TILES_OF[layout]) {
    throw new HttpError(400, `layout ${layout} has ${TILES_OF[layout]} tiles, got ${cameras.length} cameras`, { cameras: `at most ${TILES_OF[layout]} for layout ${layout}` });
  }
  await assertCamerasVisible(q, user, cameras, 'cameras');
  if (tour && !(await readableGroup(q, user, tour.groupId))) throw new HttpError(400, 'tour.groupId: camera group not found', { 'tour.groupId': 'camera group not found' });
}

export async function presetRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { scope: 'all' | 'mine' | 'shared' } }>('/api/wall/presets', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], summary: 'Wall presets: mine and shared', querystring: scopeQuery, response: { 200: listOf(presetReply), ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const res = await ctx.db.query<PresetRow>(
      `SELECT ${COLUMNS} FROM wall_presets p JOIN users u ON u.id = p.owner_id WHERE ${scopeClause('p', request.query.scope, 1)} ORDER BY p.name, p.id`, [user.id]);
    const items = await present(ctx.db, user, res.rows);
    return { items, total: items.length };
  });

  app.get<{ Params: { id: string } }>('/api/wall/presets/:id', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], params: uuidParam, response: { 200: presetReply, ...commonErrors } },
  }, async (request) => {
    const p = await readable(ctx.db, currentUser(request), request.params.id);
    if (!p) throw notFound('Wall preset');
    return p;
  });

  app.post<{ Body: PresetBody & { name: string; layout: Layout } }>('/api/wall/presets', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], body: { ...presetBody, required: ['name', 'layout'] }, response: { 201: presetReply, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const b = request.body;
    const cameras = b.cameras ?? [];
    const preset = await ctx.db.tx(async (q) => {
      await check(q, user, b.layout, cameras, b.tour);
      const res = await q.query<{ id: string }>(
        `INSERT INTO wall_presets (owner_id, name, layout, cameras, tour, shared) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6) RETURNING id`,
        [user.id, b.name.trim(), b.layout, JSON.stringify(cameras), b.tour ? JSON.stringify(b.tour) : null, b.shared ?? false])
        .catch((e) => conflictOnDuplicateName(e, 'wall preset'));
      await audit(q, { user, action: 'wall.preset.create', targetType: 'wall_preset', targetId: res.rows[0].id, detail: { name: b.name, layout: b.layout, shared: b.shared ?? false }, ip: request.ip });
      return (await readable(q, user, res.rows[0].id))!;
    });
    return reply.code(201).send(preset);
  });

  app.patch<{ Params: { id: string }; Body: PresetBody }>('/api/wall/presets/:id', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], params: uuidParam, body: { ...presetBody, minProperties: 1 }, response: { 200: presetReply, ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const b = request.body;
    return ctx.db.tx(async (q) => {
      const res = await q.query<PresetRow>(`SELECT ${COLUMNS} FROM wall_presets p JOIN users u ON u.id = p.owner_id WHERE p.id = $1 AND ${visibleToMe('p', 2)} FOR UPDATE OF p`, [request.params.id, user.id]);
      const row = res.rows[0];
      if (!row) throw notFound('Wall preset');
      if (row.ownerId !== user.id && user.role !== 'admin') throw new HttpError(403, 'Only the owner or an admin may change a shared preset');
      const layout = b.layout ?? row.layout;
      // a smaller layout without new cameras keeps the first tiles
      const cameras = b.cameras ?? row.cameras.slice(0, TILES_OF[layout]);
      await check(q, user, layout, b.cameras ?? [], b.tour);
      await q.query(
        `UPDATE wall_presets SET name = coalesce($2, name), layout = $3, cameras = $4::jsonb,
                tour = CASE WHEN $5::boolean THEN $6::jsonb ELSE tour END, shared = coalesce($7, shared), updated_at = now() WHERE id = $1`,
        [row.id, b.name?.trim() ?? null, layout, JSON.stringify(cameras), b.tour !== undefined, b.tour ? JSON.stringify(b.tour) : null, b.shared ?? null])
        .catch((e) => conflictOnDuplicateName(e, 'wall preset'));
      await audit(q, { user, action: 'wall.preset.update', targetType: 'wall_preset', targetId: row.id, detail: { name: row.name, changed: Object.keys(b) }, ip: request.ip });
      return (await readable(q, user, row.id))!;
    });
  });

  app.delete<{ Params: { id: string } }>('/api/wall/presets/:id', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    await ctx.db.tx(async (q) => {
      const res = await q.query<{ id: string; name: string; ownerId: string }>(
        `SELECT p.id, p.name, p.owner_id AS "ownerId" FROM wall_presets p WHERE p.id = $1 AND ${visibleToMe('p', 2)} FOR UPDATE`, [request.params.id, user.id]);
      const row = res.rows[0];
      if (!row) throw notFound('Wall preset');
      if (row.ownerId !== user.id && user.role !== 'admin') throw new HttpError(403, 'Only the owner or an admin may delete a shared preset');
      await q.query('DELETE FROM wall_presets WHERE id = $1', [row.id]);
      await audit(q, { user, action: 'wall.preset.delete', targetType: 'wall_preset', targetId: row.id, detail: { name: row.name }, ip: request.ip });
    });
    return reply.code(204).send();
  });
}
