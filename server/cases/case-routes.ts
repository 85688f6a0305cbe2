import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import type { Role } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { notFound } from '../http/errors.js';
import { commonErrors, listOf, paging, uuidParam } from '../http/schemas.js';
import {
  CASE_ACTIONS, CASE_ROLES, caseHistory, createCase, getCase, listCases, transitionCase,
  type CaseAction, type CaseFilters, type Notification,
} from './case-service.js';

const str = { type: ['string', 'null'] } as const;
const num = { type: ['number', 'null'] } as const;
export const caseReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, caseNo: { type: 'string' }, source: { type: 'string' }, sourceRef: str, eventType: { type: 'string' },
    eventCode: { type: 'string' }, eventName: str, gridCode: str, district: str, lat: num, lng: num, address: str, cameraId: str,
    description: str, evidence: { type: 'array', items: {} }, status: { type: 'string' }, department: str, handleResult: str,
    reworkCount: { type: 'integer' }, dueAt: str, reportedAt: str, filedAt: { type: 'string' }, dispatchedAt: str, handledAt: str,
    verifiedAt: str, closedAt: str, voidedAt: str, voidReason: str, overdue: { type: 'boolean' },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: { at: { type: 'string' }, actor: str, action: { type: 'string' }, fromStatus: str, toStatus: str, note: str, detail: { type: 'object', additionalProperties: true } },
      },
    },
  },
} as const;

const STATUSES = ['filed', 'dispatched', 'handled', 'verified', 'closed', 'void'];
const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: STATUSES }, source: { type: 'string', enum: ['ai', '110', 'manual'] },
    eventType: { type: 'string', maxLength: 64 }, grid: { type: 'string', maxLength: 15 }, district: { type: 'string', maxLength: 50 },
    department: { type: 'string', maxLength: 100 }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
    ...paging,
  },
  additionalProperties: false,
} as const;

export function publishAll(ctx: AppContext, notifications: Notification[]): void {
  for (const n of notifications) ctx.bus.publish(n.topic, n.payload, n.cameraId);
}

export async function caseRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: CaseFilters }>('/api/cases', {
    config: { roles: CASE_ROLES },
    schema: { tags: ['cases'], querystring: listQuery, response: { 200: listOf(caseReply), ...commonErrors } },
  }, async (request) => listCases(ctx.db, currentUser(request), request.query));

  app.get<{ Params: { id: string } }>('/api/cases/:id', {
    config: { roles: CASE_ROLES },
    schema: { tags: ['cases'], params: uuidParam, response: { 200: caseReply, ...commonErrors } },
  }, async (request) => {
    const c = await getCase(ctx.db, request.params.id, currentUser(request));
    if (!c) throw notFound('Case');
    return { ...c, history: await caseHistory(ctx.db, c.id) };
  });

  app.post<{ Body: { eventType: string; description?: string; address?: string; gridCode?: string; district?: string; lat?: number; lng?: number; cameraId?: string } }>('/api/cases', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags: ['cases'],
      description: 'Files a case by hand (source manual).',
      body: {
        type: 'object',
        properties: {
          eventType: { type: 'string', minLength: 1, maxLength: 64 }, description: { type: 'string', maxLength: 4000 },
          address: { type: 'string', maxLength: 300 }, gridCode: { type: 'string', pattern: '^([0-9]{14}|[0-9A-Z]{15})$' },
          district: { type: 'string', maxLength: 50 }, lat: { type: 'number', minimum: -90, maximum: 90 },
          lng: { type: 'number', minimum: -180, maximum: 180 }, cameraId: { type: 'string', format: 'uuid' },
        },
        required: ['eventType'],
        additionalProperties: false,
      },
      response: { 201: caseReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const b = request.body;
    if (b.cameraId && !(await visibleCamera(ctx, user, b.cameraId))) throw notFound('Camera');
    const c = await ctx.db.tx(async (q) => {
      const created = await createCase(q, { source: 'manual', ...b, actor: user });
      await audit(q, { user, action: 'case.file', targetType: 'case', targetId: created.id, detail: { caseNo: created.caseNo }, ip: request.ip });
      return created;
    });
    ctx.bus.publish('case.updated', { id: c.id, caseNo: c.caseNo, status: c.status, action: 'file' }, c.cameraId ?? undefined);
    return reply.code(201).send(c);
  });

  app.post<{ Params: { id: string }; Body: { action: CaseAction; department?: string; note?: string } }>('/api/cases/:id/transitions', {
    config: { roles: CASE_ROLES },
    schema: {
      tags: ['cases'],
      description: 'dispatch (department) | handle (note = result) | verify | close | rework (note) | void (note). Roles: see case-service.ts.',
      params: uuidParam,
      body: {
        type: 'object',
        properties: {
          action: { type: 'string', enum: Object.keys(CASE_ACTIONS) },
          department: { type: 'string', maxLength: 100 }, note: { type: 'string', maxLength: 2000 },
        },
        required: ['action'],
        additionalProperties: false,
      },
      response: { 200: caseReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { action, department, note } = request.body;
    if (!(await getCase(ctx.db, request.params.id, user))) throw notFound('Case');
    const { notifications } = await ctx.db.tx(async (q) => {
      const r = await transitionCase(q, { caseId: request.params.id, action, actor: user, department, note });
      await audit(q, { user, action: `case.${action}`, targetType: 'case', targetId: r.case.id, detail: { caseNo: r.case.caseNo, department: department ?? null }, ip: request.ip });
      return r;
    });
    publishAll(ctx, notifications);
    const c = (await getCase(ctx.db, request.params.id, user))!;
    return { ...c, history: await caseHistory(ctx.db, c.id) };
  });
}

async function visibleCamera(ctx: AppContext, user: { role: Role }, id: string): Promise<boolean> {
  const r = await ctx.db.query(`SELECT 1 FROM cameras c WHERE c.id = $1 AND ${visibilityCondition(user)}`, [id]);
  return r.rowCount > 0;
}
