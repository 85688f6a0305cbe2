import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { commonErrors, listOf } from '../http/schemas.js';

const item = {
  type: 'object',
  properties: {
    code: { type: 'string' }, name: { type: 'string' }, eventType: { type: 'string' }, eventName: { type: ['string', 'null'] },
    enabled: { type: 'boolean' }, updatedAt: { type: 'string' },
  },
} as const;
const COLUMNS = `m.code, m.name, m.event_type AS "eventType", et.name_zh AS "eventName", m.enabled, m.updated_at AS "updatedAt"`;

/** The editable table that maps 110 incident category codes to event types (local data per city). */
export async function categoryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/110/categories', {
    config: { roles: ['admin', 'operator', 'police110'] },
    schema: { tags: ['110'], response: { 200: listOf(item), ...commonErrors } },
  }, async () => {
    const res = await ctx.db.query(`SELECT ${COLUMNS} FROM category_map_110 m JOIN event_types et ON et.key = m.event_type ORDER BY m.code`);
    return { items: res.rows, total: res.rows.length };
  });

  app.put<{ Params: { code: string }; Body: { name: string; eventType: string; enabled?: boolean } }>('/api/110/categories/:code', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['110'],
      params: { type: 'object', properties: { code: { type: 'string', pattern: '^[0-9A-Za-z_.-]{1,32}$' } }, required: ['code'], additionalProperties: false },
      body: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, eventType: { type: 'string', maxLength: 64 }, enabled: { type: 'boolean' } },
        required: ['name', 'eventType'],
        additionalProperties: false,
      },
      response: { 200: item, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { name, eventType, enabled } = request.body;
    return ctx.db.tx(async (q) => {
      const et = await q.query('SELECT 1 FROM event_types WHERE key = $1', [eventType]);
      if (!et.rowCount) throw new HttpError(400, `Unknown event type "${eventType}"`, { eventType: 'is not a known event type' });
      await q.query(
        `INSERT INTO category_map_110 (code, name, event_type, enabled, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, event_type = EXCLUDED.event_type, enabled = EXCLUDED.enabled,
                                          updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [request.params.code, name, eventType, enabled ?? true, user.id]);
      await audit(q, { user, action: 'category110.upsert', targetType: 'category_110', targetId: request.params.code, detail: { name, eventType, enabled: enabled ?? true }, ip: request.ip });
      return (await q.query(`SELECT ${COLUMNS} FROM category_map_110 m JOIN event_types et ON et.key = m.event_type WHERE m.code = $1`, [request.params.code])).rows[0];
    });
  });
}
