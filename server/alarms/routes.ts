/**
 * The cameras' own alarms (tamper, video loss, motion) for the wall, the technicians and the police:
 *   GET  /api/alarms?active=&cameraId=&kind=&limit=&offset= → {items, total}   newest first
 *   POST /api/alarms/:id/ack                                  → the alarm        (who saw it, audited)
 * Restricted cameras' alarms are as invisible as the cameras.
 *
 *   await app.register(alarmRoutes, ctx);
 */
import type { FastifyInstance } from 'fastify';
import { currentUser } from '../auth/guard.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { commonErrors, listOf, paging } from '../http/schemas.js';
import { visibilityCondition } from '../inventory/camera-repo.js';

export const ALARM_READERS: Role[] = ['admin', 'operator', 'technician', 'police110'];
const KINDS = ['motion', 'tamper', 'video_loss', 'other'] as const;

const alarmReply = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, cameraId: { type: 'string' }, cameraName: { type: 'string' }, kind: { type: 'string' }, topic: { type: 'string' },
    active: { type: 'boolean' }, startedAt: { type: 'string' }, endedAt: { type: ['string', 'null'] },
    ackedBy: { type: ['string', 'null'] }, ackedAt: { type: ['string', 'null'] },
  },
} as const;

const COLUMNS = `a.id::int AS id, a.camera_id AS "cameraId", c.name AS "cameraName", a.kind, a.topic, (a.ended_at IS NULL) AS active,
  a.started_at AS "startedAt", a.ended_at AS "endedAt", u.username AS "ackedBy", a.acked_at AS "ackedAt"`;
const FROM = 'camera_alarms a JOIN cameras c ON c.id = a.camera_id LEFT JOIN users u ON u.id = a.acked_by';

export async function alarmRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const one = async (user: SessionUser, id: number) =>
    (await ctx.db.query(`SELECT ${COLUMNS} FROM ${FROM} WHERE a.id = $1 AND ${visibilityCondition(user, 'c')}`, [id])).rows[0] ?? null;

  app.get<{ Querystring: { active?: boolean; cameraId?: string; kind?: string; limit: number; offset: number } }>('/api/alarms', {
    config: { roles: ALARM_READERS },
    schema: {
      tags: ['alarms'],
      summary: 'Camera alarms from the cameras\' ONVIF events, newest first',
      querystring: {
        type: 'object',
        properties: { active: { type: 'boolean' }, cameraId: { type: 'string', format: 'uuid' }, kind: { type: 'string', enum: [...KINDS] }, ...paging },
        additionalProperties: false,
      },
      response: { 200: listOf(alarmReply), ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { active, cameraId, kind, limit, offset } = request.query;
    const where = [visibilityCondition(user, 'c')];
    const params: unknown[] = [];
    if (active !== undefined) where.push(active ? 'a.ended_at IS NULL' : 'a.ended_at IS NOT NULL');
    if (cameraId) { params.push(cameraId); where.push(`a.camera_id = $${params.length}`); }
    if (kind) { params.push(kind); where.push(`a.kind = $${params.length}`); }
    const total = (await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${FROM} WHERE ${where.join(' AND ')}`, params)).rows[0].n;
    params.push(limit, offset);
    const items = (await ctx.db.query(
      `SELECT ${COLUMNS} FROM ${FROM} WHERE ${where.join(' AND ')} ORDER BY a.started_at DESC, a.id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`, params)).rows;
    return { items, total };
  });

  app.post<{ Params: { id: number } }>('/api/alarms/:id/ack', {
    config: { roles: ALARM_READERS },
    schema: {
      tags: ['alarms'],
      summary: 'Acknowledges a camera alarm (the first acknowledgement stands)',
      params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'], additionalProperties: false },
      response: { 200: alarmReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { id } = request.params;
    if (!(await one(user, id))) throw notFound('Alarm');
    const r = await ctx.db.query(`UPDATE camera_alarms SET acked_by = $2, acked_at = now() WHERE id = $1 AND acked_at IS NULL RETURNING camera_id`, [id, user.id]);
    if (r.rowCount) await audit(ctx.db, { user, action: 'alarm.ack', targetType: 'camera', targetId: (r.rows[0] as { camera_id: string }).camera_id, detail: { alarmId: id }, ip: request.ip });
    return one(user, id);
  });
}
