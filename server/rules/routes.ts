/**
 * Analytics rules (technicians, admins): CRUD and presets. A change reloads the camera's rules in this node's engine
 * and goes out on the bus (`analytics.rules`) for the nodes that run the engine elsewhere.
 *
 *   await app.register(ruleRoutes, node);   // node.analytics: validation context and the engine to reload
 */
import type { FastifyInstance } from 'fastify';
import { PRESETS, ruleInputFromRow, ruleToRow, validateRule, type RuleRow } from '../../analytics/index.js';
import type { AppContext } from '../context.js';
import type { AnalyticsService } from '../analytics/service.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { currentUser } from '../auth/guard.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, uuidParam } from '../http/schemas.js';
import { RULE_REVIEW_COUNTS } from '../review/events-repo.js';
import { precision } from '../review/precision.js';

export const RULE_EDITORS: Role[] = ['admin', 'technician'];
export const RULE_READERS: Role[] = ['admin', 'technician', 'reviewer'];

const str = { type: ['string', 'null'] } as const;
const num = { type: ['number', 'null'] } as const;
const point = { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;
const boxSchema = { type: ['object', 'null'], properties: { x1: { type: 'number' }, y1: { type: 'number' }, x2: { type: 'number' }, y2: { type: 'number' } } } as const;
const scheduleSchema = {
  type: ['object', 'null'],
  properties: { days: { type: 'array', items: { type: 'integer' } }, from: { type: 'string' }, to: { type: 'string' } },
  additionalProperties: false,
} as const;
const ruleProps = {
  cameraId: { type: 'string', format: 'uuid' },
  eventType: { type: 'string', minLength: 1, maxLength: 64 },
  name: { type: 'string', maxLength: 200 },
  zone: { type: 'array', items: point, maxItems: 64 },
  detector: { type: 'string', enum: ['model', 'foreground'] },
  model: { type: 'string', maxLength: 64 },
  classes: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100 },
  minScore: { type: 'number' },
  minArea: { type: 'number' },
  minCount: { type: 'integer' },
  minDwellSeconds: { type: 'number' },
  schedule: scheduleSchema,
  cooldownSeconds: { type: 'number' },
  enabled: { type: 'boolean' },
} as const;
const ruleReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, ...ruleProps, cameraName: str, name: str, model: str,
    precision: num, confirmed: { type: 'integer' }, rejected: { type: 'integer' }, pending: { type: 'integer' },
    createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;

interface RuleBody {
  cameraId?: string; eventType?: string; name?: string; zone?: [number, number][]; detector?: 'model' | 'foreground'; model?: string;
  classes?: string[]; minScore?: number; minArea?: number; minCount?: number; minDwellSeconds?: number;
  schedule?: { days: number[]; from: string; to: string } | null; cooldownSeconds?: number; enabled?: boolean;
}

const RULE_COLUMNS = `r.id, r.camera_id AS "cameraId", cam.name AS "cameraName", r.event_type AS "eventType", r.name, r.zone, r.detector, r.model,
  r.classes, r.min_score AS "minScore", r.min_area AS "minArea", r.min_count AS "minCount", r.min_dwell_seconds AS "minDwellSeconds",
  r.schedule, r.cooldown_seconds AS "cooldownSeconds", r.enabled, r.created_at AS "createdAt", r.updated_at AS "updatedAt"`;

function fieldErrors(errors: { field: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) out[e.field || '(root)'] ??= e.message;
  return out;
}

async function visibleCamera(ctx: AppContext, user: Pick<SessionUser, 'role'>, id: string): Promise<boolean> {
  const r = await ctx.db.query(`SELECT 1 FROM cameras c WHERE c.id = $1 AND ${visibilityCondition(user)}`, [id]);
  return r.rowCount > 0;
}

export async function ruleRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
  const getRule = async (user: SessionUser, id: string) => {
    const r = await ctx.db.query(`SELECT ${RULE_COLUMNS} FROM rules r JOIN cameras cam ON cam.id = r.camera_id
      WHERE r.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id]);
    return r.rows[0] ?? null;
  };

  // ---- rules ---------------------------------------------------------------------------------------------------
  app.get('/api/rules/presets', {
    config: { roles: RULE_READERS },
    schema: { tags: ['analytics'], response: { 200: { type: 'object', additionalProperties: true }, ...commonErrors } },
  }, async () => ({ presets: PRESETS, defaultModel: ctx.analytics.config.defaultModel, classes: ctx.analytics.models?.manifest(ctx.analytics.config.defaultModel)?.classes ?? [] }));

  app.get<{ Querystring: { cameraId?: string; eventType?: string } }>('/api/rules', {
    config: { roles: RULE_READERS },
    schema: {
      tags: ['analytics'],
      querystring: { type: 'object', properties: { cameraId: { type: 'string', format: 'uuid' }, eventType: { type: 'string', maxLength: 64 } }, additionalProperties: false },
      response: { 200: listOf(ruleReply), ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const where = [visibilityCondition(user, 'cam')];
    const params: unknown[] = [];
    if (request.query.cameraId) { params.push(request.query.cameraId); where.push(`r.camera_id = $${params.length}`); }
    if (request.query.eventType) { params.push(request.query.eventType); where.push(`r.event_type = $${params.length}`); }
    const rows = (await ctx.db.query(`SELECT ${RULE_COLUMNS}, ${RULE_REVIEW_COUNTS}
      FROM rules r JOIN cameras cam ON cam.id = r.camera_id WHERE ${where.join(' AND ')} ORDER BY cam.name, r.created_at`, params)).rows as Array<{ confirmed: number; rejected: number }>;
    const items = rows.map((r) => ({ ...r, precision: precision(r) }));
    return { items, total: items.length };
  });

  app.get<{ Params: { id: string } }>('/api/rules/:id', {
    config: { roles: RULE_READERS },
    schema: { tags: ['analytics'], params: uuidParam, response: { 200: ruleReply, ...commonErrors } },
  }, async (request) => {
    const r = await getRule(currentUser(request), request.params.id);
    if (!r) throw notFound('Rule');
    return r;
  });

  const validateOr422 = (input: Record<string, unknown>) => {
    const v = validateRule(input, ctx.analytics.ruleContext());
    if (!v.ok) {
      const fe = fieldErrors(v.errors);
      throw new HttpError(422, `Invalid rule: ${Object.entries(fe).map(([f, m]) => `${f} ${m}`).join('; ')}`, fe);
    }
    return v.rule;
  };
  const upsert = async (user: SessionUser, ip: string, rule: ReturnType<typeof validateOr422>, isNew: boolean) => {
    const row = ruleToRow(rule);
    await ctx.db.tx(async (q) => {
      const vals = [row.id, row.camera_id, row.event_type, row.name, JSON.stringify(row.zone), row.detector, row.model, row.classes, row.min_score,
        row.min_area, row.min_count, row.min_dwell_seconds, row.schedule ? JSON.stringify(row.schedule) : null, row.cooldown_seconds, row.enabled, user.id];
      if (isNew) {
        await q.query(`INSERT INTO rules (id, camera_id, event_type, name, zone, detector, model, classes, min_score, min_area, min_count, min_dwell_seconds,
            schedule, cooldown_seconds, enabled, created_by, updated_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16)`, vals);
      } else {
        await q.query(`UPDATE rules SET camera_id=$2, event_type=$3, name=$4, zone=$5, detector=$6, model=$7, classes=$8, min_score=$9, min_area=$10,
            min_count=$11, min_dwell_seconds=$12, schedule=$13, cooldown_seconds=$14, enabled=$15, updated_by=$16, updated_at=now() WHERE id=$1`, vals);
      }
      await audit(q, { user, action: isNew ? 'rule.create' : 'rule.update', targetType: 'rule', targetId: row.id, detail: { cameraId: row.camera_id, eventType: row.event_type }, ip });
    });
  };

  app.post<{ Body: RuleBody }>('/api/rules', {
    config: { roles: RULE_EDITORS },
    schema: {
      tags: ['analytics'],
      description: 'Creates a rule. Missing fields come from the event type\'s preset. Zone problems, unknown event types, models or classes → 422 with fieldErrors.',
      body: { type: 'object', properties: ruleProps, required: ['cameraId', 'eventType', 'zone'], additionalProperties: false },
      response: { 201: ruleReply, 422: errorReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    if (!(await visibleCamera(ctx, user, request.body.cameraId!))) throw new HttpError(422, 'Unknown camera', { cameraId: 'is not a known camera' });
    const rule = validateOr422({ ...request.body });
    await upsert(user, request.ip, rule, true);
    await ctx.analytics.reloadRules(rule.cameraId);
    ctx.bus.publish('analytics.rules', { cameraId: rule.cameraId }, rule.cameraId);
    reply.code(201);
    return getRule(user, rule.id);
  });

  app.patch<{ Params: { id: string }; Body: RuleBody }>('/api/rules/:id', {
    config: { roles: RULE_EDITORS },
    schema: {
      tags: ['analytics'],
      params: uuidParam,
      body: { type: 'object', properties: ruleProps, additionalProperties: false, minProperties: 1 },
      response: { 200: ruleReply, 422: errorReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const current = (await ctx.db.query<RuleRow>(`SELECT r.* FROM rules r JOIN cameras cam ON cam.id = r.camera_id WHERE r.id = $1 AND ${visibilityCondition(user, 'cam')}`, [request.params.id])).rows[0];
    if (!current) throw notFound('Rule');
    if (request.body.cameraId && request.body.cameraId !== current.camera_id && !(await visibleCamera(ctx, user, request.body.cameraId))) {
      throw new HttpError(422, 'Unknown camera', { cameraId: 'is not a known camera' });
    }
    const merged: Record<string, unknown> = { ...ruleInputFromRow(current), ...request.body };
    // a rule moved to the foreground detector drops its model and classes
    if (merged.detector === 'foreground') {
      delete merged.model;
      if (request.body.classes === undefined) merged.classes = [];
    }
    const rule = validateOr422(merged);
    await upsert(user, request.ip, rule, false);
    await ctx.analytics.reloadRules(current.camera_id);
    if (rule.cameraId !== current.camera_id) await ctx.analytics.reloadRules(rule.cameraId);
    for (const cameraId of new Set([current.camera_id, rule.cameraId])) ctx.bus.publish('analytics.rules', { cameraId }, cameraId);
    return getRule(user, rule.id);
  });

  app.delete<{ Params: { id: string } }>('/api/rules/:id', {
    config: { roles: RULE_EDITORS },
    schema: { tags: ['analytics'], params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const r = await getRule(user, request.params.id) as { cameraId: string } | null;
    if (!r) throw notFound('Rule');
    await ctx.db.tx(async (q) => {
      await q.query('DELETE FROM rules WHERE id = $1', [request.params.id]);
      await audit(q, { user, action: 'rule.delete', targetType: 'rule', targetId: request.params.id, ip: request.ip });
    });
    await ctx.analytics.reloadRules(r.cameraId);
    ctx.bus.publish('analytics.rules', { cameraId: r.cameraId }, r.cameraId);
    return reply.code(204).send();
  });
}
