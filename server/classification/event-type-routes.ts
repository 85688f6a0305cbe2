/**
 * The classification (event types of the standard, with codes, names, time limits and whether video can detect them):
 *   GET /api/event-types, PATCH /api/event-types/:key (admin). A change reloads every rule of this node's engine and
 *   goes out on the bus (`analytics.rules` with eventTypes) for the other nodes. Time limits are written through
 *   time-limits.ts, whichever route changes them.
 *
 *   await app.register(eventTypeRoutes, node);
 */
import type { FastifyInstance } from 'fastify';
import { PRESETS } from '../../analytics/index.js';
import type { AppContext } from '../context.js';
import type { AnalyticsService } from '../analytics/service.js';
import { currentUser } from '../auth/guard.js';
import { ALL_ROLES } from '../auth/roles.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { commonErrors } from '../http/schemas.js';
import { nullableTimeLimitHours } from './time-limits.js';

const str = { type: ['string', 'null'] } as const;
const num = { type: ['number', 'null'] } as const;

export async function eventTypeRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
  // ---- classification ------------------------------------------------------------------------------------------
  const eventTypeReply = {
    type: 'object',
    properties: {
      key: { type: 'string' }, nameZh: { type: 'string' }, nameEn: { type: 'string' }, code: { type: 'string' }, editionInForce: { type: 'string' },
      codeCjt2142007: str, codeGbt304282013: str, codeGbt476782026: str, videoDetectable: { type: 'string' }, typicalEvidence: str,
      timeLimitHours: num, enabled: { type: 'boolean' }, hasPreset: { type: 'boolean' }, updatedAt: { type: 'string' },
    },
  } as const;
  const ET_COLUMNS = `key, name_zh AS "nameZh", name_en AS "nameEn", code, edition_in_force AS "editionInForce", code_cjt214_2007 AS "codeCjt2142007",
    code_gbt30428_2013 AS "codeGbt304282013", code_gbt47678_2026 AS "codeGbt476782026", video_detectable AS "videoDetectable",
    typical_evidence AS "typicalEvidence", time_limit_hours::float8 AS "timeLimitHours", enabled, updated_at AS "updatedAt"`;
  app.get('/api/event-types', {
    config: { roles: ALL_ROLES },
    schema: { tags: ['analytics'], response: { 200: { type: 'array', items: eventTypeReply }, ...commonErrors } },
  }, async () => (await ctx.db.query<{ key: string }>(`SELECT ${ET_COLUMNS} FROM event_types ORDER BY code, key`)).rows.map((r) => ({ ...r, hasPreset: !!PRESETS[r.key] })));

  app.patch<{ Params: { key: string }; Body: { nameZh?: string; nameEn?: string; code?: string; editionInForce?: string; timeLimitHours?: number | null; enabled?: boolean; typicalEvidence?: string | null } }>('/api/event-types/:key', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['analytics'],
      params: { type: 'object', properties: { key: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,63}$' } }, required: ['key'], additionalProperties: false },
      body: {
        type: 'object',
        properties: {
          nameZh: { type: 'string', minLength: 1, maxLength: 100 }, nameEn: { type: 'string', minLength: 1, maxLength: 200 },
          code: { type: 'string', pattern: '^[0-9A-Za-z-]{2,20}$' }, editionInForce: { type: 'string', minLength: 1, maxLength: 100 },
          timeLimitHours: nullableTimeLimitHours, enabled: { type: 'boolean' },
          typicalEvidence: { type: ['string', 'null'], maxLength: 500 },
        },
        additionalProperties: false,
        minProperties: 1,
      },
      response: { 200: eventTypeReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const b = request.body;
    const cols: Record<string, string> = { nameZh: 'name_zh', nameEn: 'name_en', code: 'code', editionInForce: 'edition_in_force', timeLimitHours: 'time_limit_hours', enabled: 'enabled', typicalEvidence: 'typical_evidence' };
    const sets: string[] = [];
    const params: unknown[] = [request.params.key];
    for (const [k, col] of Object.entries(cols)) {
      if ((b as Record<string, unknown>)[k] === undefined) continue;
      params.push((b as Record<string, unknown>)[k]);
      sets.push(`${col} = $${params.length}`);
    }
    params.push(user.id);
    const row = await ctx.db.tx(async (q) => {
      const r = await q.query<{ key: string }>(`UPDATE event_types SET ${sets.join(', ')}, updated_by = $${params.length}, updated_at = now() WHERE key = $1 RETURNING ${ET_COLUMNS}`, params);
      if (!r.rows[0]) throw notFound('Event type');
      await audit(q, { user, action: 'event_type.update', targetType: 'event_type', targetId: request.params.key, detail: b as Record<string, unknown>, ip: request.ip });
      return r.rows[0];
    });
    await ctx.analytics.loadEventTypes();
    await ctx.analytics.reloadRules();
    ctx.bus.publish('analytics.rules', { cameraId: null, eventTypes: true });
    return { ...row, hasPreset: !!PRESETS[row.key] };
  });
}
