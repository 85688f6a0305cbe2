/**
 * Reject reasons per event type, as data (table reject_reasons, migration 019; admins edit them in Administration):
 *   GET    /api/reject-reasons?eventType=   the reasons of one type (enabled ones, in order) or of every type (admin: disabled too)
 *   PUT    /api/reject-reasons/:eventType/:key   add or change one (admin): names, order, enabled
 *   DELETE /api/reject-reasons/:eventType/:key   remove one (admin); events rejected with it keep their reason
 * POST /api/events/:id/reject accepts only an enabled reason of the event's type (rejectReasonAllowed).
 *
 *   await app.register(rejectReasonRoutes, ctx);
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/db.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { commonErrors, listOf } from '../http/schemas.js';
import type { Role } from '../auth/roles.js';

/** the review desk's roles (as routes.ts REVIEWERS; not imported from there: that module imports this one) */
const REVIEWERS: Role[] = ['admin', 'reviewer'];

const KEY = '^[a-z][a-z0-9_]{1,63}$';
const reasonReply = {
  type: 'object',
  properties: { eventType: { type: 'string' }, key: { type: 'string' }, nameZh: { type: 'string' }, nameEn: { type: 'string' }, sort: { type: 'integer' }, enabled: { type: 'boolean' }, updatedAt: { type: 'string' } },
} as const;
const COLUMNS = `event_type AS "eventType", key, name_zh AS "nameZh", name_en AS "nameEn", sort, enabled, updated_at AS "updatedAt"`;
const params = { type: 'object', properties: { eventType: { type: 'string', pattern: KEY }, key: { type: 'string', pattern: KEY } }, required: ['eventType', 'key'], additionalProperties: false } as const;

/** Is `reason` an enabled reject reason of this event's type? */
export async function rejectReasonAllowed(q: Queryable, eventId: string, reason: string): Promise<boolean> {
  const r = await q.query(`SELECT 1 FROM events e JOIN reject_reasons r ON r.event_type = e.event_type AND r.key = $2 AND r.enabled WHERE e.id = $1`, [eventId, reason]);
  return (r.rowCount ?? 0) > 0;
}

export async function rejectReasonRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { eventType?: string } }>('/api/reject-reasons', {
    config: { roles: REVIEWERS },
    schema: {
      tags: ['analytics'],
      querystring: { type: 'object', properties: { eventType: { type: 'string', pattern: KEY } }, additionalProperties: false },
      response: { 200: listOf(reasonReply), ...commonErrors },
    },
  }, async (request) => {
    const admin = currentUser(request).role === 'admin';
    const { eventType } = request.query;
    const res = await ctx.db.query(
      `SELECT ${COLUMNS} FROM reject_reasons WHERE ($1::text IS NULL OR event_type = $1) AND (enabled OR $2) ORDER BY event_type, sort, key`,
      [eventType ?? null, admin]);
    return { items: res.rows, total: res.rowCount ?? 0 };
  });

  app.put<{ Params: { eventType: string; key: string }; Body: { nameZh: string; nameEn: string; sort?: number; enabled?: boolean } }>('/api/reject-reasons/:eventType/:key', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['analytics'],
      params,
      body: {
        type: 'object',
        properties: {
          nameZh: { type: 'string', minLength: 1, maxLength: 40 }, nameEn: { type: 'string', minLength: 1, maxLength: 80 },
          sort: { type: 'integer', minimum: 0, maximum: 10_000 }, enabled: { type: 'boolean' },
        },
        required: ['nameZh', 'nameEn'],
        additionalProperties: false,
      },
      response: { 200: reasonReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { eventType, key } = request.params;
    const b = request.body;
    const known = await ctx.db.query('SELECT 1 FROM event_types WHERE key = $1', [eventType]);
    if (!known.rowCount) throw new HttpError(404, `找不到事件类型 ${eventType} Event type ${eventType} not found`);
    const row = await ctx.db.tx(async (q) => {
      const r = await q.query(
        `INSERT INTO reject_reasons (event_type, key, name_zh, name_en, sort, enabled, updated_by) VALUES ($1, $2, $3, $4, COALESCE($5, 50), COALESCE($6, true), $7)
         ON CONFLICT (event_type, key) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
           sort = COALESCE($5, reject_reasons.sort), enabled = COALESCE($6, reject_reasons.enabled), updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING ${COLUMNS}`,
        [eventType, key, b.nameZh.trim(), b.nameEn.trim(), b.sort ?? null, b.enabled ?? null, user.id]);
      await audit(q, { user, action: 'reject_reason.put', targetType: 'reject_reason', targetId: `${eventType}/${key}`, detail: { ...b }, ip: request.ip });
      return r.rows[0];
    });
    return row;
  });

  app.delete<{ Params: { eventType: string; key: string } }>('/api/reject-reasons/:eventType/:key', {
    config: { roles: ['admin'] },
    schema: { tags: ['analytics'], params, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { eventType, key } = request.params;
    await ctx.db.tx(async (q) => {
      const r = await q.query('DELETE FROM reject_reasons WHERE event_type = $1 AND key = $2', [eventType, key]);
      if (!r.rowCount) throw new HttpError(404, `找不到驳回原因 ${key} Reject reason ${key} of ${eventType} not found`);
      await audit(q, { user, action: 'reject_reason.delete', targetType: 'reject_reason', targetId: `${eventType}/${key}`, ip: request.ip });
    });
    return reply.code(204).send();
  });
}
