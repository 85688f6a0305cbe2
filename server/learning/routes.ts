/**
 * Learning from reviews: suppression regions of a rule (list, draw, edit, expire, delete) and what the reviews
 * suggest (regions for spots rejected again and again, stricter thresholds replayed over the reviewed stays).
 *
 *   await app.register(learningRoutes, node);
 */
import type { FastifyInstance } from 'fastify';
import { suggestSpots, suggestThresholds, SUPPRESSING_REASONS, type Box, type ReviewedCandidate } from '../../analytics/index.js';
import type { AppContext } from '../context.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { currentUser } from '../auth/guard.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, uuidParam } from '../http/schemas.js';
import type { AnalyticsService } from '../analytics/service.js';
import { REGION_COLUMNS } from './regions.js';
import { reviewedOfRule } from '../review/events-repo.js';

const EDITORS: Role[] = ['admin', 'technician'];
const READERS: Role[] = ['admin', 'technician', 'reviewer'];

const boxSchema = {
  type: 'object',
  properties: { x1: { type: 'number', minimum: 0, maximum: 1 }, y1: { type: 'number', minimum: 0, maximum: 1 }, x2: { type: 'number', minimum: 0, maximum: 1 }, y2: { type: 'number', minimum: 0, maximum: 1 } },
  required: ['x1', 'y1', 'x2', 'y2'],
  additionalProperties: false,
} as const;
const regionReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, ruleId: { type: 'string' }, cameraId: { type: 'string' }, box: boxSchema, reason: { type: 'string' }, note: { type: ['string', 'null'] },
    sourceEventId: { type: ['string', 'null'] }, expiresAt: { type: ['string', 'null'] }, active: { type: 'boolean' }, createdBy: { type: ['string', 'null'] },
    createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;
const expiresSchema = { type: ['string', 'null'], format: 'date-time' } as const;

function checkBox(b: Box): void {
  if (!(b.x2 > b.x1) || !(b.y2 > b.y1)) throw new HttpError(422, '区域无效：右下角须在左上角之右下 / invalid box: x2 must exceed x1 and y2 must exceed y1', { box: 'x2 > x1 and y2 > y1' });
}

export async function learningRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
  const svc = ctx.analytics;

  const visibleRule = async (user: SessionUser, id: string) =>
    (await ctx.db.query<{ id: string; camera_id: string; min_dwell_seconds: number; min_score: number; min_area: number; min_count: number }>(
      `SELECT r.id, r.camera_id, r.min_dwell_seconds, r.min_score, r.min_area, r.min_count FROM rules r JOIN cameras cam ON cam.id = r.camera_id
        WHERE r.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id])).rows[0] ?? null;
  const getRegion = async (user: SessionUser, id: string) =>
    (await ctx.db.query<{ cameraId: string; ruleId: string }>(`SELECT ${REGION_COLUMNS} FROM suppression_regions s JOIN cameras cam ON cam.id = s.camera_id
      LEFT JOIN users u ON u.id = s.created_by WHERE s.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id])).rows[0] ?? null;
  /** The engine (here and on the other nodes through the bus) picks the regions up with the camera's rules. */
  const applied = async (cameraId: string) => {
    await svc.reloadRules(cameraId);
    ctx.bus.publish('analytics.rules', { cameraId }, cameraId);
  };

  app.get<{ Params: { id: string } }>('/api/rules/:id/suppressions', {
    config: { roles: READERS },
    schema: { tags: ['analytics'], description: 'Suppression regions of a rule, in force or expired, newest first.', params: uuidParam, response: { 200: listOf(regionReply), ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    if (!(await visibleRule(user, request.params.id))) throw notFound('Rule');
    const items = (await ctx.db.query(`SELECT ${REGION_COLUMNS} FROM suppression_regions s LEFT JOIN users u ON u.id = s.created_by
      WHERE s.rule_id = $1 ORDER BY s.created_at DESC`, [request.params.id])).rows;
    return { items, total: items.length };
  });

  app.post<{ Params: { id: string }; Body: { box: Box; reason?: string; note?: string; expiresAt?: string | null } }>('/api/rules/:id/suppressions', {
    config: { roles: EDITORS },
    schema: {
      tags: ['analytics'],
      description: 'Draws a suppression region on a rule: no candidate of the rule where an object stands inside it until expiresAt (null: for good).',
      params: uuidParam,
      body: {
        type: 'object',
        properties: { box: boxSchema, reason: { type: 'string', minLength: 1, maxLength: 64 }, note: { type: 'string', maxLength: 1000 }, expiresAt: expiresSchema },
        required: ['box'],
        additionalProperties: false,
      },
      response: { 201: regionReply, 422: errorReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const rule = await visibleRule(user, request.params.id);
    if (!rule) throw notFound('Rule');
    const b = request.body;
    checkBox(b.box);
    if (b.expiresAt && Date.parse(b.expiresAt) <= Date.now()) throw new HttpError(422, '到期时间须在将来 / expiresAt must be in the future', { expiresAt: 'must be in the future' });
    const id = await ctx.db.tx(async (q) => {
      const r = await q.query<{ id: string }>(`INSERT INTO suppression_regions (rule_id, camera_id, box, reason, note, expires_at, created_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`, [rule.id, rule.camera_id, JSON.stringify(b.box), b.reason ?? 'drawn', b.note?.trim() || null, b.expiresAt ?? null, user.id]);
      await audit(q, { user, action: 'suppression.create', targetType: 'rule', targetId: rule.id, detail: { regionId: r.rows[0].id, box: b.box, expiresAt: b.expiresAt ?? null }, ip: request.ip });
      return r.rows[0].id;
    });
    await applied(rule.camera_id);
    reply.code(201);
    return getRegion(user, id);
  });

  app.patch<{ Params: { id: string }; Body: { box?: Box; note?: string | null; expiresAt?: string | null } }>('/api/suppressions/:id', {
    config: { roles: EDITORS },
    schema: {
      tags: ['analytics'],
      description: 'Moves or resizes a suppression region, changes its note, or its end (null: permanent; a past time ends it now).',
      params: uuidParam,
      body: { type: 'object', properties: { box: boxSchema, note: { type: ['string', 'null'], maxLength: 1000 }, expiresAt: expiresSchema }, additionalProperties: false, minProperties: 1 },
      response: { 200: regionReply, 422: errorReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const current = await getRegion(user, request.params.id);
    if (!current) throw notFound('Suppression region');
    const b = request.body;
    if (b.box) checkBox(b.box);
    const sets: string[] = [];
    const params: unknown[] = [request.params.id];
    if (b.box) { params.push(JSON.stringify(b.box)); sets.push(`box = $${params.length}`); }
    if (b.note !== undefined) { params.push(b.note?.trim() || null); sets.push(`note = $${params.length}`); }
    if (b.expiresAt !== undefined) { params.push(b.expiresAt); sets.push(`expires_at = $${params.length}`); }
    params.push(user.id);
    await ctx.db.tx(async (q) => {
      await q.query(`UPDATE suppression_regions SET ${sets.join(', ')}, updated_by = $${params.length}, updated_at = now() WHERE id = $1`, params);
      await audit(q, { user, action: 'suppression.update', targetType: 'rule', targetId: current.ruleId, detail: { regionId: request.params.id, ...b }, ip: request.ip });
    });
    await applied(current.cameraId);
    return getRegion(user, request.params.id);
  });

  app.delete<{ Params: { id: string } }>('/api/suppressions/:id', {
    config: { roles: EDITORS },
    schema: { tags: ['analytics'], params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const current = await getRegion(user, request.params.id);
    if (!current) throw notFound('Suppression region');
    await ctx.db.tx(async (q) => {
      await q.query('DELETE FROM suppression_regions WHERE id = $1', [request.params.id]);
      await audit(q, { user, action: 'suppression.delete', targetType: 'rule', targetId: current.ruleId, detail: { regionId: request.params.id }, ip: request.ip });
    });
    await applied(current.cameraId);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/rules/:id/suggestions', {
    config: { roles: READERS },
    schema: {
      tags: ['analytics'],
      description: 'What this rule\'s reviews suggest: suppression regions for spots rejected 3+ times with no confirmation there, and stricter thresholds replayed over the reviewed stays (each with how many rejections it would have removed and confirmations kept).',
      params: uuidParam,
      response: { 200: { type: 'object', additionalProperties: true }, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const rule = await visibleRule(user, request.params.id);
    if (!rule) throw notFound('Rule');
    const rows = await reviewedOfRule(ctx.db, rule.id);
    const reviewed: ReviewedCandidate[] = rows.map((r) => ({
      id: r.id, status: r.status, reason: r.reject_reason, box: r.box, score: Number(r.score), count: Number(r.object_count), stayedSeconds: Number(r.stayed),
    }));
    const existing = (await ctx.db.query<{ box: Box }>(`SELECT box FROM suppression_regions WHERE rule_id = $1 AND (expires_at IS NULL OR expires_at > now())`, [rule.id])).rows.map((r) => r.box);
    const current = { minDwellSeconds: Number(rule.min_dwell_seconds), minScore: Number(rule.min_score), minArea: Number(rule.min_area), minCount: Number(rule.min_count) };
    return {
      ruleId: rule.id,
      cameraId: rule.camera_id,
      confirmed: reviewed.filter((r) => r.status === 'confirmed').length,
      rejected: reviewed.filter((r) => r.status === 'rejected').length,
      thresholds: suggestThresholds(current, reviewed),
      spots: suggestSpots(reviewed, existing),
      suppressingReasons: SUPPRESSING_REASONS,
    };
  });
}
