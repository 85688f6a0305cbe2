import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { commonErrors, listOf } from '../http/schemas.js';
import { WORKING_CALENDAR } from '../cases/working-hours.js';
import { timeLimitHours } from './time-limits.js';

/**
 * The time-limit table (时限) per event type: GET /api/time-limits (with the working calendar), PUT one (admin).
 * The bounds are those of time-limits.ts, shared with PATCH /api/event-types/:key.
 */
const item = {
  type: 'object',
  properties: {
    eventType: { type: 'string' }, name: { type: 'string' }, code: { type: 'string' }, hours: { type: ['number', 'null'] },
    enabled: { type: 'boolean' }, updatedAt: { type: 'string' },
  },
} as const;

export async function timeLimitRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/time-limits', {
    config: { roles: ['admin', 'operator', 'reviewer'] },
    schema: {
      tags: ['cases'],
      response: {
        200: { ...listOf(item), properties: { ...listOf(item).properties, calendar: { type: 'object', additionalProperties: true } } },
        ...commonErrors,
      },
    },
  }, async () => {
    const res = await ctx.db.query<Record<string, unknown>>(
      `SELECT key AS "eventType", name_zh AS name, code, time_limit_hours::float8 AS hours, enabled, updated_at AS "updatedAt"
         FROM event_types ORDER BY code, key`);
    return { items: res.rows, total: res.rows.length, calendar: WORKING_CALENDAR };
  });

  app.put<{ Params: { eventType: string }; Body: { hours: number } }>('/api/time-limits/:eventType', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['cases'],
      params: { type: 'object', properties: { eventType: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,63}$' } }, required: ['eventType'], additionalProperties: false },
      body: { type: 'object', properties: { hours: timeLimitHours }, required: ['hours'], additionalProperties: false },
      response: { 200: item, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    return ctx.db.tx(async (q) => {
      const res = await q.query<Record<string, unknown>>(
        `UPDATE event_types SET time_limit_hours = $2, updated_by = $3, updated_at = now() WHERE key = $1
         RETURNING key AS "eventType", name_zh AS name, code, time_limit_hours::float8 AS hours, enabled, updated_at AS "updatedAt"`,
        [request.params.eventType, request.body.hours, user.id]);
      if (!res.rows[0]) throw notFound('Event type');
      await audit(q, { user, action: 'time_limit.update', targetType: 'event_type', targetId: request.params.eventType, detail: { hours: request.body.hours }, ip: request.ip });
      return res.rows[0];
    });
  });
}
