import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { commonErrors, listOf, paging } from '../http/schemas.js';

const item = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, topic: { type: 'string' }, destination: { type: 'string' }, apiKeyName: { type: ['string', 'null'] },
    attempts: { type: 'integer' }, nextAttemptAt: { type: 'string' }, deliveredAt: { type: ['string', 'null'] },
    lastError: { type: ['string', 'null'] }, lastStatus: { type: ['integer', 'null'] }, createdAt: { type: 'string' },
    payload: { type: 'object', additionalProperties: true },
  },
} as const;

/** Admin view of the hand-offs: what is waiting, what keeps failing and why; "retry now" for one row. */
export async function outboxRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { state?: 'pending' | 'failing' | 'delivered'; topic?: string; limit: number; offset: number } }>('/api/outbox', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['outbox'],
      querystring: {
        type: 'object',
        properties: { state: { type: 'string', enum: ['pending', 'failing', 'delivered'] }, topic: { type: 'string', maxLength: 64 }, ...paging },
        additionalProperties: false,
      },
      response: { 200: { ...listOf(item), properties: { ...listOf(item).properties, pending: { type: 'integer' }, failing: { type: 'integer' } } }, ...commonErrors },
    },
  }, async (request) => {
    const { state, topic, limit, offset } = request.query;
    const where = ['TRUE'];
    const params: unknown[] = [];
    if (state === 'pending') where.push('o.delivered_at IS NULL');
    if (state === 'failing') where.push('o.delivered_at IS NULL AND o.last_error IS NOT NULL');
    if (state === 'delivered') where.push('o.delivered_at IS NOT NULL');
    if (topic) { params.push(topic); where.push(`o.topic = $${params.length}`); }
    const clause = where.join(' AND ');
    const rows = await ctx.db.query(
      `SELECT o.id, o.topic, o.destination, k.name AS "apiKeyName", o.attempts, o.next_attempt_at AS "nextAttemptAt",
              o.delivered_at AS "deliveredAt", o.last_error AS "lastError", o.last_status AS "lastStatus", o.created_at AS "createdAt", o.payload
         FROM outbox o LEFT JOIN api_keys k ON k.id = o.api_key_id WHERE ${clause} ORDER BY o.id DESC LIMIT ${limit} OFFSET ${offset}`, params);
    const counts = await ctx.db.query<{ total: number; pending: number; failing: number }>(
      `SELECT (SELECT count(*)::int FROM outbox o WHERE ${clause}) AS total,
              count(*) FILTER (WHERE delivered_at IS NULL)::int AS pending,
              count(*) FILTER (WHERE delivered_at IS NULL AND last_error IS NOT NULL)::int AS failing
         FROM outbox`, params);
    return { items: rows.rows, ...counts.rows[0] };
  });

  app.post<{ Params: { id: number } }>('/api/outbox/:id/retry', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['outbox'],
      description: 'Makes an undelivered row due now (the worker picks it up at its next poll).',
      params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'], additionalProperties: false },
      response: { 204: { type: 'null' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    await ctx.db.tx(async (q) => {
      const r = await q.query('UPDATE outbox SET next_attempt_at = now() WHERE id = $1 AND delivered_at IS NULL', [request.params.id]);
      if (!r.rowCount) throw notFound('Undelivered outbox row');
      await audit(q, { user, action: 'outbox.retry', targetType: 'outbox', targetId: String(request.params.id), ip: request.ip });
    });
    return reply.code(204).send();
  });
}
