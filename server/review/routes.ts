/**
 * The review desk: candidate events (list, one, confirm → case, reject → suppression), their evidence files
 * (visibility-checked and audited) and the precision report. Rows of `events` are read and written in events-repo.ts.
 *
 *   await app.register(reviewRoutes, node);   // node.analytics: suppressions and the evidence directory
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import type { AnalyticsService } from '../analytics/service.js';
import { currentUser } from '../auth/guard.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, paging, uuidParam } from '../http/schemas.js';
import { createCase } from '../cases/case-service.js';
import { recordCameraAccess } from '../sharing/access-log.js';
import { RULE_READERS } from '../rules/routes.js';
import * as events from './events-repo.js';
import { listEvents, type EventFilters } from './events-repo.js';
import { PRECISION_MIN_REVIEWS, PRECISION_THRESHOLD, withPrecision } from './precision.js';
import { regionFromRejectedEvent } from '../learning/regions.js';
import { rejectReasonAllowed } from './reject-reasons.js';

export const REVIEWERS: Role[] = ['admin', 'reviewer'];
export const EVENT_READERS: Role[] = ['admin', 'reviewer', 'technician', 'operator'];
// Reject reasons are data per event type (reject-reasons.ts, migration 019); permanent_object, legal_parking_bay and
// licensed_vendor also teach the rule a suppression region (server/learning/), "other" needs a note.

const str = { type: ['string', 'null'] } as const;
const num = { type: ['number', 'null'] } as const;
const boxSchema = { type: ['object', 'null'], properties: { x1: { type: 'number' }, y1: { type: 'number' }, x2: { type: 'number' }, y2: { type: 'number' } } } as const;
const eventReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, ruleId: str, cameraId: { type: 'string' }, cameraName: str, eventType: { type: 'string' }, eventCode: { type: 'string' },
    eventName: str, status: { type: 'string' }, score: { type: 'number' }, label: str, objectCount: { type: 'integer' }, box: boxSchema,
    firstSeen: { type: 'string' }, lastSeen: { type: 'string' }, closedAt: str, gridCode: str, lat: num, lng: num, address: str,
    evidence: { type: 'object', properties: { annotated: { type: 'boolean' }, clean: { type: 'boolean' }, clip: { type: 'boolean' }, purgedAt: { type: ['string', 'null'] } } },
    dwellSeconds: num, reviewedBy: str, reviewedAt: str, rejectReason: str, rejectNote: str, caseId: str, caseNo: str, createdAt: { type: 'string' },
    suppressionRegionId: str,
  },
} as const;

export async function reviewRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
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
    return listEvents(ctx.db, currentUser(request), request.query);
  });

  const getEvent = (user: SessionUser, id: string) => events.getEvent(ctx.db, user, id);

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
      const ev = await events.lockForConfirm(q, user, id);
      if (!ev) throw notFound('Event');
      if (ev.status !== 'pending') throw new HttpError(409, `This event was already ${ev.status}`);
      const evidence = ['annotated', 'clean', 'clip'].map((kind) => ({ kind, eventId: id, url: `/api/events/${id}/evidence/${kind}` }));
      const created = await createCase(q, {
        source: 'ai', sourceRef: id, eventType: b.eventType ?? ev.event_type, gridCode: ev.grid_code, lat: ev.lat, lng: ev.lng, address: ev.address,
        cameraId: ev.camera_id, description: b.description ?? null, evidence, reportedAt: ev.first_seen, actor: user,
      });
      await events.markConfirmed(q, id, { caseId: created.id, reviewerId: user.id, correctedEventType: b.eventType && b.eventType !== ev.event_type ? b.eventType : undefined });
      await audit(q, { user, action: 'event.confirm', targetType: 'event', targetId: id, detail: { caseId: created.id, caseNo: created.caseNo, eventType: created.eventType }, ip: request.ip });
      return created;
    });
    const e = await getEvent(user, id);
    ctx.bus.publish('event.reviewed', { id, status: 'confirmed', caseNo: (e as { caseNo?: string } | null)?.caseNo ?? null }, (e as { cameraId?: string } | null)?.cameraId);
    return e;
  });

  app.post<{ Params: { id: string }; Body: { reason: string; note?: string } }>('/api/events/:id/reject', {
    config: { roles: REVIEWERS },
    schema: {
      tags: ['analytics'],
      description: 'Rejects a pending candidate with a reason of its event type (GET /api/reject-reasons?eventType=); the rule raises nothing in the same place within its cooldown.',
      params: uuidParam,
      body: {
        type: 'object',
        properties: { reason: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,63}$' }, note: { type: 'string', maxLength: 1000 } },
        required: ['reason'],
        additionalProperties: false,
      },
      response: { 200: eventReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const id = request.params.id;
    const { reason, note } = request.body;
    if (reason === 'other' && !note?.trim()) throw new HttpError(400, '选择“其他”时请在备注中说明原因 Say why in the note when the reason is "other"', { note: '选择“其他”时必填 is required for reason other' });
    const ev = await ctx.db.tx(async (q) => {
      const row = await events.lockForReject(q, user, id);
      if (!row) throw notFound('Event');
      if (row.status !== 'pending') throw new HttpError(409, `This event was already ${row.status}`);
      if (!(await rejectReasonAllowed(q, id, reason))) {
        throw new HttpError(400, `“${reason}”不是该事件类型的驳回原因 "${reason}" is not a reject reason of this event's type`, { reason: '不是该事件类型的驳回原因 is not a reject reason of this event type (GET /api/reject-reasons)' });
      }
      await events.markRejected(q, id, { reason, note: note?.trim() || null, reviewerId: user.id });
      const regionId = await regionFromRejectedEvent(q, { eventId: id, ruleId: row.rule_id, cameraId: row.camera_id, box: row.box, reason, userId: user.id });
      await audit(q, { user, action: 'event.reject', targetType: 'event', targetId: id, detail: { reason, ...(regionId ? { suppressionRegionId: regionId } : {}) }, ip: request.ip });
      return { ...row, regionId };
    });
    if (ev.regionId) {
      // the engine loads the new region with the camera's rules, here and on the other nodes
      await ctx.analytics.reloadRules(ev.camera_id);
      ctx.bus.publish('analytics.rules', { cameraId: ev.camera_id }, ev.camera_id);
    }
    if (ev.rule_id) {
      ctx.analytics.suppress(ev.rule_id, ev.camera_id, ev.box);
      ctx.bus.publish('analytics.suppress', { ruleId: ev.rule_id, cameraId: ev.camera_id, box: ev.box }, ev.camera_id);
    }
    ctx.bus.publish('event.reviewed', { id, status: 'rejected', reason }, ev.camera_id);
    return { ...(await getEvent(user, id)), suppressionRegionId: ev.regionId };
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
    const row = await events.evidenceOf(ctx.db, user, id, kind);
    if (row?.purged_at) {
      return reply.code(410).send({ statusCode: 410, error: 'Gone', message: `the evidence of this event was removed on ${new Date(row.purged_at).toISOString().slice(0, 10)} by the retention policy for rejected events` });
    }
    // a restricted camera's evidence is as invisible as the camera: 404, not 403
    if (!row?.path) throw notFound('Evidence');
    const root = resolve(ctx.analytics.evidenceDir);
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
    const { rules, cameras, types, reasons } = await events.reviewCounts(ctx.db, currentUser(request), request.query);
    return { threshold: PRECISION_THRESHOLD, minReviews: PRECISION_MIN_REVIEWS, rules: rules.map(withPrecision), cameras: cameras.map(withPrecision), types: types.map(withPrecision), reasons };
  });
}
