/**
 * Analytics in the product: rules (CRUD + presets), the classification table, candidate events for the review desk
 * (list, confirm → case, reject → suppression), evidence files (visibility-checked and audited), precision, status.
 *
 *   await app.register(analyticsRoutes, { ...ctx, cameras });
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PRESETS, ruleInputFromRow, ruleToRow, validateRule, type RuleRow } from '../../analytics/index.js';
import type { AppContext } from '../context.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { currentUser } from '../auth/guard.js';
import { ALL_ROLES, type Role, type SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, paging, uuidParam } from '../http/schemas.js';
import { createCase } from '../cases/case-service.js';
import { recordCameraAccess } from '../sharing/access-log.js';
import type { AnalyticsService } from './service.js';

export const RULE_EDITORS: Role[] = ['admin', 'technician'];
export const RULE_READERS: Role[] = ['admin', 'technician', 'reviewer'];
export const REVIEWERS: Role[] = ['admin', 'reviewer'];
export const EVENT_READERS: Role[] = ['admin', 'reviewer', 'technician', 'operator'];
export const REJECT_REASONS = ['misdetection', 'licensed_vendor', 'inside_shop', 'bin_not_overflowing', 'duplicate', 'other'] as const;
/** A rule whose precision is below this after at least PRECISION_MIN_REVIEWS reviews is flagged. */
export const PRECISION_THRESHOLD = 0.5;
export const PRECISION_MIN_REVIEWS = 5;

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
const eventReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, ruleId: str, cameraId: { type: 'string' }, cameraName: str, eventType: { type: 'string' }, eventCode: { type: 'string' },
    eventName: str, status: { type: 'string' }, score: { type: 'number' }, label: str, objectCount: { type: 'integer' }, box: boxSchema,
    firstSeen: { type: 'string' }, lastSeen: { type: 'string' }, closedAt: str, gridCode: str, lat: num, lng: num, address: str,
    evidence: { type: 'object', properties: { annotated: { type: 'boolean' }, clean: { type: 'boolean' }, clip: { type: 'boolean' }, purgedAt: { type: ['string', 'null'] } } },
    dwellSeconds: num, reviewedBy: str, reviewedAt: str, rejectReason: str, rejectNote: str, caseId: str, caseNo: str, createdAt: { type: 'string' },
  },
} as const;

interface RuleBody {
  cameraId?: string; eventType?: string; name?: string; zone?: [number, number][]; detector?: 'model' | 'foreground'; model?: string;
  classes?: string[]; minScore?: number; minArea?: number; minCount?: number; minDwellSeconds?: number;
  schedule?: { days: number[]; from: string; to: string } | null; cooldownSeconds?: number; enabled?: boolean;
}

interface EventFilters {
  status?: string; cameraId?: string; eventType?: string; ruleId?: string; from?: string; to?: string; limit: number; offset: number; order?: 'asc' | 'desc';
}

const RULE_COLUMNS = `r.id, r.camera_id AS "cameraId", cam.name AS "cameraName", r.event_type AS "eventType", r.name, r.zone, r.detector, r.model,
  r.classes, r.min_score AS "minScore", r.min_area AS "minArea", r.min_count AS "minCount", r.min_dwell_seconds AS "minDwellSeconds",
  r.schedule, r.cooldown_seconds AS "cooldownSeconds", r.enabled, r.created_at AS "createdAt", r.updated_at AS "updatedAt"`;

const EVENT_COLUMNS = `e.id, e.rule_id AS "ruleId", e.camera_id AS "cameraId", cam.name AS "cameraName", e.event_type AS "eventType",
  e.event_code AS "eventCode", et.name_zh AS "eventName", e.status, e.score, e.label, e.object_count AS "objectCount", e.box,
  e.first_seen AS "firstSeen", e.last_seen AS "lastSeen", e.closed_at AS "closedAt", e.grid_code AS "gridCode", e.lat, e.lng, e.address,
  json_build_object('annotated', e.evidence_jpeg IS NOT NULL, 'clean', e.evidence_frame IS NOT NULL, 'clip', e.evidence_clip IS NOT NULL,
    'purgedAt', e.evidence_purged_at) AS evidence,
  (e.track->>'dwellSeconds')::float8 AS "dwellSeconds", u.username AS "reviewedBy", e.reviewed_at AS "reviewedAt", e.reject_reason AS "rejectReason",
  e.reject_note AS "rejectNote", e.case_id AS "caseId", c.case_no AS "caseNo", e.created_at AS "createdAt"`;
const EVENT_FROM = `events e JOIN cameras cam ON cam.id = e.camera_id LEFT JOIN event_types et ON et.key = e.event_type
  LEFT JOIN users u ON u.id = e.reviewed_by LEFT JOIN cases c ON c.id = e.case_id`;

function fieldErrors(errors: { field: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) out[e.field || '(root)'] ??= e.message;
  return out;
}

async function visibleCamera(ctx: AppContext, user: Pick<SessionUser, 'role'>, id: string): Promise<boolean> {
  const r = await ctx.db.query(`SELECT 1 FROM cameras c WHERE c.id = $1 AND ${visibilityCondition(user)}`, [id]);
  return r.rowCount > 0;
}

export async function analyticsRoutes(app: FastifyInstance, ctx: AppContext & { cameras: CameraRepo; analytics: AnalyticsService }): Promise<void> {
  const svc = ctx.analytics;

  const getRule = async (user: SessionUser, id: string) => {
    const r = await ctx.db.query(`SELECT ${RULE_COLUMNS} FROM rules r JOIN cameras cam ON cam.id = r.camera_id
      WHERE r.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id]);
    return r.rows[0] ?? null;
  };

  // ---- status ------------------------------------------------------------------------------------------------
  app.get('/api/analytics/status', {
    config: { roles: ['admin', 'technician', 'reviewer'] },
    schema: { tags: ['analytics'], response: { 200: { type: 'object', additionalProperties: true }, ...commonErrors } },
  }, async () => svc.status());

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
          timeLimitHours: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 100000 }, enabled: { type: 'boolean' },
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
    await svc.loadEventTypes();
    await svc.reloadRules();
    ctx.bus.publish('analytics.rules', { cameraId: null, eventTypes: true });
    return { ...row, hasPreset: !!PRESETS[row.key] };
  });

  // ---- rules ---------------------------------------------------------------------------------------------------
  app.get('/api/rules/presets', {
    config: { roles: RULE_READERS },
    schema: { tags: ['analytics'], response: { 200: { type: 'object', additionalProperties: true }, ...commonErrors } },
  }, async () => ({ presets: PRESETS, defaultModel: svc.config.defaultModel, classes: svc.models?.manifest(svc.config.defaultModel)?.classes ?? [] }));

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
    const rows = (await ctx.db.query(`SELECT ${RULE_COLUMNS},
        (SELECT count(*)::int FROM events e WHERE e.rule_id = r.id AND e.status = 'confirmed') AS confirmed,
        (SELECT count(*)::int FROM events e WHERE e.rule_id = r.id AND e.status = 'rejected') AS rejected,
        (SELECT count(*)::int FROM events e WHERE e.rule_id = r.id AND e.status = 'pending') AS pending
      FROM rules r JOIN cameras cam ON cam.id = r.camera_id WHERE ${where.join(' AND ')} ORDER BY cam.name, r.created_at`, params)).rows as Array<{ confirmed: number; rejected: number }>;
    const items = rows.map((r) => ({ ...r, precision: r.confirmed + r.rejected ? r.confirmed / (r.confirmed + r.rejected) : null }));
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
    const v = validateRule(input, svc.ruleContext());
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
    await svc.reloadRules(rule.cameraId);
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
    await svc.reloadRules(current.camera_id);
    if (rule.cameraId !== current.camera_id) await svc.reloadRules(rule.cameraId);
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
    await svc.reloadRules(r.cameraId);
    ctx.bus.publish('analytics.rules', { cameraId: r.cameraId }, r.cameraId);
    return reply.code(204).send();
  });

  // ---- events --------------------------------------------------------------------------------------------------
  app.get<{ Querystring: EventFilters }>('/api/events', {
    config: { roles: EVENT_READERS },
    schema: {
      tags: ['analytics'],
      description: 'Candidate events. Pending ones come oldest first (a queue); others newest first unless order is given.',
      querystring: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['pending', 'confirmed', 'rejected', 'expired'] }, cameraId: { type: 'string', format: 'uuid' },
          eventType: { type: 'string', maxLength: 64 }, ruleId: { type: 'string', format: 'uuid' },
          from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, order: { type: 'string', enum: ['asc', 'desc'] }, ...paging,
        },
        additionalProperties: false,
      },
      response: { 200: listOf(eventReply), ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const f = request.query;
    const where = [visibilityCondition(user, 'cam')];
    const params: unknown[] = [];
    const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
    if (f.status) add((n) => `e.status = $${n}`, f.status);
    if (f.cameraId) add((n) => `e.camera_id = $${n}`, f.cameraId);
    if (f.eventType) add((n) => `e.event_type = $${n}`, f.eventType);
    if (f.ruleId) add((n) => `e.rule_id = $${n}`, f.ruleId);
    if (f.from) add((n) => `e.first_seen >= $${n}`, f.from);
    if (f.to) add((n) => `e.first_seen < $${n}`, f.to);
    const order = f.order ?? (f.status === 'pending' ? 'asc' : 'desc');
    const total = Number((await ctx.db.query<{ n: string }>(`SELECT count(*) AS n FROM events e JOIN cameras cam ON cam.id = e.camera_id WHERE ${where.join(' AND ')}`, params)).rows[0].n);
    const items = (await ctx.db.query(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} WHERE ${where.join(' AND ')}
      ORDER BY e.first_seen ${order === 'asc' ? 'ASC' : 'DESC'}, e.id LIMIT ${f.limit} OFFSET ${f.offset}`, params)).rows;
    return { items, total };
  });

  const getEvent = async (user: SessionUser, id: string) =>
    (await ctx.db.query(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id])).rows[0] ?? null;

  app.get<{ Params: { id: string } }>('/api/events/:id', {
    config: { roles: EVENT_READERS },
    schema: { tags: ['analytics'], params: uuidParam, response: { 200: eventReply, ...commonErrors } },
  }, async (request) => {
    const e = await getEvent(currentUser(request), request.params.id);
    if (!e) throw notFound('Event');
    return e;
  });

  app.post<{ Params: { id: string }; Body: { eventType?: string; description?: string } }>('/api/events/:id/confirm', {
    config: { roles: REVIEWERS },
    schema: {
      tags: ['analytics'],
      description: 'Confirms a pending candidate: files a case (source ai) in the same transaction; the city hand-off goes through the outbox.',
      params: uuidParam,
      body: { type: ['object', 'null'], properties: { eventType: { type: 'string', minLength: 1, maxLength: 64 }, description: { type: 'string', maxLength: 4000 } }, additionalProperties: false },
      response: { 200: eventReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const id = request.params.id;
    const b = request.body ?? {};
    await ctx.db.tx(async (q) => {
      const ev = (await q.query<{ status: string; event_type: string; camera_id: string; grid_code: string | null; lat: number | null; lng: number | null; address: string | null; first_seen: Date; sharing: string }>(
        `SELECT e.status, e.event_type, e.camera_id, e.grid_code, e.lat, e.lng, e.address, e.first_seen, cam.sharing
           FROM events e JOIN cameras cam ON cam.id = e.camera_id WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')} FOR UPDATE OF e`, [id])).rows[0];
      if (!ev) throw notFound('Event');
      if (ev.status !== 'pending') throw new HttpError(409, `This event was already ${ev.status}`);
      const evidence = ['annotated', 'clean', 'clip'].map((kind) => ({ kind, eventId: id, url: `/api/events/${id}/evidence/${kind}` }));
      const created = await createCase(q, {
        source: 'ai', sourceRef: id, eventType: b.eventType ?? ev.event_type, gridCode: ev.grid_code, lat: ev.lat, lng: ev.lng, address: ev.address,
        cameraId: ev.camera_id, description: b.description ?? null, evidence, reportedAt: ev.first_seen, actor: user,
      });
      await q.query(`UPDATE events SET status = 'confirmed', case_id = $2, reviewed_by = $3, reviewed_at = now(), updated_at = now(),
          track = track || $4::jsonb WHERE id = $1`, [id, created.id, user.id, JSON.stringify(b.eventType && b.eventType !== ev.event_type ? { correctedEventType: b.eventType } : {})]);
      await audit(q, { user, action: 'event.confirm', targetType: 'event', targetId: id, detail: { caseId: created.id, caseNo: created.caseNo, eventType: created.eventType }, ip: request.ip });
      return created;
    });
    const e = await getEvent(user, id);
    ctx.bus.publish('event.reviewed', { id, status: 'confirmed', caseNo: (e as { caseNo?: string } | null)?.caseNo ?? null }, (e as { cameraId?: string } | null)?.cameraId);
    return e;
  });

  app.post<{ Params: { id: string }; Body: { reason: (typeof REJECT_REASONS)[number]; note?: string } }>('/api/events/:id/reject', {
    config: { roles: REVIEWERS },
    schema: {
      tags: ['analytics'],
      description: 'Rejects a pending candidate with a reason; the rule raises nothing in the same place within its cooldown.',
      params: uuidParam,
      body: {
        type: 'object',
        properties: { reason: { type: 'string', enum: [...REJECT_REASONS] }, note: { type: 'string', maxLength: 1000 } },
        required: ['reason'],
        additionalProperties: false,
      },
      response: { 200: eventReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const id = request.params.id;
    const { reason, note } = request.body;
    if (reason === 'other' && !note?.trim()) throw new HttpError(400, 'Say why in the note when the reason is "other"', { note: 'is required for reason other' });
    const ev = await ctx.db.tx(async (q) => {
      const row = (await q.query<{ status: string; rule_id: string | null; camera_id: string; box: { x1: number; y1: number; x2: number; y2: number } | null }>(
        `SELECT e.status, e.rule_id, e.camera_id, e.box FROM events e JOIN cameras cam ON cam.id = e.camera_id
          WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')} FOR UPDATE OF e`, [id])).rows[0];
      if (!row) throw notFound('Event');
      if (row.status !== 'pending') throw new HttpError(409, `This event was already ${row.status}`);
      await q.query(`UPDATE events SET status = 'rejected', reject_reason = $2, reject_note = $3, reviewed_by = $4, reviewed_at = now(), updated_at = now() WHERE id = $1`,
        [id, reason, note?.trim() || null, user.id]);
      await audit(q, { user, action: 'event.reject', targetType: 'event', targetId: id, detail: { reason }, ip: request.ip });
      return row;
    });
    if (ev.rule_id) {
      svc.suppress(ev.rule_id, ev.camera_id, ev.box);
      ctx.bus.publish('analytics.suppress', { ruleId: ev.rule_id, cameraId: ev.camera_id, box: ev.box }, ev.camera_id);
    }
    ctx.bus.publish('event.reviewed', { id, status: 'rejected', reason }, ev.camera_id);
    return getEvent(user, id);
  });

  app.get<{ Params: { id: string; kind: 'annotated' | 'clean' | 'clip' } }>('/api/events/:id/evidence/:kind', {
    config: { roles: EVENT_READERS },
    schema: {
      tags: ['analytics'],
      params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, kind: { type: 'string', enum: ['annotated', 'clean', 'clip'] } }, required: ['id', 'kind'], additionalProperties: false },
      response: { ...commonErrors, 410: errorReply },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { id, kind } = request.params;
    const col = kind === 'annotated' ? 'evidence_jpeg' : kind === 'clean' ? 'evidence_frame' : 'evidence_clip';
    const row = (await ctx.db.query<{ camera_id: string; path: string | null; purged_at: Date | null }>(
      `SELECT e.camera_id, e.${col} AS path, e.evidence_purged_at AS purged_at FROM events e JOIN cameras cam ON cam.id = e.camera_id
        WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id])).rows[0];
    if (row?.purged_at) {
      return reply.code(410).send({ statusCode: 410, error: 'Gone', message: `the evidence of this event was removed on ${new Date(row.purged_at).toISOString().slice(0, 10)} by the retention policy for rejected events` });
    }
    // a restricted camera's evidence is as invisible as the camera: 404, not 403
    if (!row?.path) throw notFound('Evidence');
    const root = resolve(svc.evidenceDir);
    const file = resolve(root, row.path);
    if (!file.startsWith(root + sep)) throw notFound('Evidence');
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) throw notFound('Evidence');
    await audit(ctx.db, { user, action: 'evidence.view', targetType: 'camera', targetId: row.camera_id, detail: { eventId: id, kind }, ip: request.ip });
    await recordCameraAccess(ctx.db, { user, cameraId: row.camera_id, kind: 'evidence', startedAt: new Date(), endedAt: new Date(), ip: request.ip });
    reply.header('cache-control', 'private, max-age=3600').header('content-length', st.size).type(kind === 'clip' ? 'video/mp4' : 'image/jpeg');
    return reply.send(createReadStream(file));
  });

  // ---- precision -----------------------------------------------------------------------------------------------
  app.get<{ Querystring: { from?: string; to?: string } }>('/api/analytics/precision', {
    config: { roles: RULE_READERS },
    schema: {
      tags: ['analytics'],
      description: `Per rule and per camera: confirmed, rejected, pending, precision = confirmed / reviewed; rules below ${PRECISION_THRESHOLD} after ${PRECISION_MIN_REVIEWS}+ reviews are flagged. Volume per event type.`,
      querystring: { type: 'object', properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } }, additionalProperties: false },
      response: { 200: { type: 'object', additionalProperties: true }, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const where = [visibilityCondition(user, 'cam')];
    const params: unknown[] = [];
    if (request.query.from) { params.push(request.query.from); where.push(`e.first_seen >= $${params.length}`); }
    if (request.query.to) { params.push(request.query.to); where.push(`e.first_seen < $${params.length}`); }
    const counts = `count(*) FILTER (WHERE e.status = 'confirmed')::int AS confirmed, count(*) FILTER (WHERE e.status = 'rejected')::int AS rejected,
      count(*) FILTER (WHERE e.status = 'pending')::int AS pending, count(*)::int AS total`;
    const from = `events e JOIN cameras cam ON cam.id = e.camera_id WHERE ${where.join(' AND ')}`;
    type Counts = { confirmed: number; rejected: number; pending: number; total: number };
    const withPrecision = <T extends Counts>(r: T) => {
      const reviewed = r.confirmed + r.rejected;
      const precision = reviewed ? r.confirmed / reviewed : null;
      return { ...r, reviewed, precision, flagged: precision !== null && reviewed >= PRECISION_MIN_REVIEWS && precision < PRECISION_THRESHOLD };
    };
    const rules = (await ctx.db.query<Counts>(`SELECT e.rule_id AS "ruleId", r.name AS "ruleName", e.camera_id AS "cameraId", cam.name AS "cameraName",
        min(e.event_type) AS "eventType", ${counts} FROM ${from.replace('WHERE', 'LEFT JOIN rules r ON r.id = e.rule_id WHERE')}
        GROUP BY e.rule_id, r.name, e.camera_id, cam.name ORDER BY cam.name`, params)).rows.map(withPrecision);
    const cameras = (await ctx.db.query<Counts>(`SELECT e.camera_id AS "cameraId", cam.name AS "cameraName", ${counts} FROM ${from}
        GROUP BY e.camera_id, cam.name ORDER BY cam.name`, params)).rows.map(withPrecision);
    const types = (await ctx.db.query<Counts>(`SELECT e.event_type AS "eventType", ${counts} FROM ${from} GROUP BY e.event_type ORDER BY total DESC`, params)).rows.map(withPrecision);
    const reasons = (await ctx.db.query(`SELECT e.reject_reason AS reason, count(*)::int AS n FROM ${from} AND e.status = 'rejected' GROUP BY e.reject_reason ORDER BY n DESC`, params)).rows;
    return { threshold: PRECISION_THRESHOLD, minReviews: PRECISION_MIN_REVIEWS, rules, cameras, types, reasons };
  });
}
