import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import type { Role } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { HttpError, notFound } from '../http/errors.js';
import type { Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { commonErrors, listOf, paging, uuidParam } from '../http/schemas.js';
import {
  allowedActions, CASE_ACTIONS, CASE_ROLES, caseHistory, createCase, getCase, listCases, transitionCase,
  type CaseAction, type CaseFilters, type CaseRecord, type Notification,
} from './case-service.js';
import type { CaseTransitionFeed } from './transition-feed.js';
import { publishAll } from '../bus.js';
import { sourceEventOfCase } from '../review/events-repo.js';

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
    extension: { type: ['object', 'null'], additionalProperties: true }, extensionCount: { type: 'integer' }, parkedFrom: str,
    cameraName: str,
    actions: { type: 'array', items: { type: 'object', properties: { action: { type: 'string' }, needs: { type: 'array', items: { type: 'string' } } } } },
    handoffs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' }, topic: { type: 'string' }, destination: { type: 'string' }, apiKeyName: str, attempts: { type: 'integer' },
          nextAttemptAt: { type: 'string' }, deliveredAt: str, lastError: str, lastStatus: { type: ['integer', 'null'] }, createdAt: { type: 'string' },
          state: { type: 'string' },
        },
      },
    },
    sourceEvent: { type: ['object', 'null'], additionalProperties: true },
    incident: { type: ['object', 'null'], additionalProperties: true },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: { at: { type: 'string' }, actor: str, action: { type: 'string' }, fromStatus: str, toStatus: str, note: str, detail: { type: 'object', additionalProperties: true } },
      },
    },
  },
} as const;

const STATUSES = ['filed', 'dispatched', 'handled', 'verified', 'closed', 'void', 'parked'];
const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: STATUSES }, source: { type: 'string', enum: ['ai', '110', 'manual'] },
    eventType: { type: 'string', maxLength: 64 }, grid: { type: 'string', maxLength: 15 }, district: { type: 'string', maxLength: 50 },
    department: { type: 'string', maxLength: 100 }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
    street: { type: 'string', maxLength: 50 }, overdue: { type: 'boolean' }, dueBefore: { type: 'string', format: 'date-time' },
    sort: { type: 'string', enum: ['due', 'filed'] },
    ...paging,
  },
  additionalProperties: false,
} as const;

/** What the case routes use of the node: the feed their transitions go out on (followers act on them after commit). */
export type CaseRoutesContext = AppContext & { transitions: CaseTransitionFeed };

/** After a step has committed: announce it, and wait for this node's followers (the 110 desk) to handle it. */
export async function announceStep(ctx: CaseRoutesContext, notifications: Notification[]): Promise<void> {
  publishAll(ctx.bus, notifications);
  await ctx.transitions.settled();
}

export async function caseRoutes(app: FastifyInstance, ctx: CaseRoutesContext): Promise<void> {
  app.get<{ Querystring: CaseFilters }>('/api/cases', {
    config: { roles: CASE_ROLES },
    schema: {
      tags: ['cases'],
      description: 'Filters: status, source, eventType, district, street, grid (prefix), department, overdue, dueBefore, filed from/to; sort=due. counts: per status under the other filters.',
      querystring: listQuery,
      response: { 200: { ...listOf(caseReply), properties: { ...listOf(caseReply).properties, counts: { type: 'object', additionalProperties: { type: 'integer' } } } }, ...commonErrors },
    },
  }, async (request) => listCases(ctx.db, currentUser(request), request.query));

  app.get<{ Params: { id: string } }>('/api/cases/:id', {
    config: { roles: CASE_ROLES },
    schema: { tags: ['cases'], params: uuidParam, response: { 200: caseReply, ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const c = await getCase(ctx.db, request.params.id, user);
    if (!c) throw notFound('Case');
    return caseDetail(ctx, c, user);
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

  app.post<{ Params: { id: string }; Body: { action: CaseAction; department?: string; note?: string; hours?: number } }>('/api/cases/:id/transitions', {
    config: { roles: CASE_ROLES },
    schema: {
      tags: ['cases'],
      description: 'dispatch (department) | handle (note = result) | feedback (note) | verify | close | rework (note) | send_back (note) | extend (hours, note) | approve_extension | reject_extension (note) | park (note) | resume | void (note). Roles: see case-service.ts; GET /api/cases/:id lists the actions the caller may take now.',
      params: uuidParam,
      body: {
        type: 'object',
        properties: {
          action: { type: 'string', enum: Object.keys(CASE_ACTIONS) },
          department: { type: 'string', maxLength: 100 }, note: { type: 'string', maxLength: 2000 },
          hours: { type: 'number', exclusiveMinimum: 0, maximum: 10000 },
        },
        required: ['action'],
        additionalProperties: false,
      },
      response: { 200: caseReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { action, department, note, hours } = request.body;
    if (!(await getCase(ctx.db, request.params.id, user))) throw notFound('Case');
    const { notifications } = await ctx.db.tx(async (q) => {
      if (department && CASE_ACTIONS[action]?.needs.includes('department')) await assertDepartment(q, department);
      const r = await transitionCase(q, { caseId: request.params.id, action, actor: user, department, note, hours });
      await audit(q, { user, action: `case.${action}`, targetType: 'case', targetId: r.case.id, detail: { caseNo: r.case.caseNo, department: department ?? null, hours: hours ?? null }, ip: request.ip });
      return r;
    });
    await announceStep(ctx, notifications);
    const c = (await getCase(ctx.db, request.params.id, user))!;
    return caseDetail(ctx, c, user);
  });
}

/**
 * The case page: the case, its history, the actions this user may take now (with what each needs), the
 * hand-offs of the case (city platform, 110 feedback: pending, delivered or failing with the reason), and its
 * source (the AI event or the 110 incident, without the caller's personal data).
 */
export async function caseDetail(ctx: AppContext, c: CaseRecord, user: SessionUser) {
  const handoffs = await ctx.db.query(
    `SELECT o.id, o.topic, o.destination, k.name AS "apiKeyName", o.attempts, o.next_attempt_at AS "nextAttemptAt",
            o.delivered_at AS "deliveredAt", o.last_error AS "lastError", o.last_status AS "lastStatus", o.created_at AS "createdAt",
            CASE WHEN o.delivered_at IS NOT NULL THEN 'delivered' WHEN o.last_error IS NOT NULL THEN 'failing' ELSE 'pending' END AS state
       FROM outbox o LEFT JOIN api_keys k ON k.id = o.api_key_id WHERE o.payload->>'caseNo' = $1 ORDER BY o.id`, [c.caseNo]);
  const event = c.source === 'ai' && c.sourceRef && c.cameraId
    ? await sourceEventOfCase(ctx.db, c.id)
    : null;
  const incident = c.source === '110'
    ? (await ctx.db.query(
      `SELECT i.ticket_no AS "ticketNo", i.status, i.category_code AS "categoryCode", i.category_name AS "categoryName",
              i.report_text AS "reportText", i.address, i.reported_at AS "reportedAt", i.jurisdiction_unit AS "jurisdictionUnit", i.satisfaction
         FROM incidents_110 i WHERE i.case_id = $1`, [c.id])).rows[0] ?? null
    : null;
  const cam = c.cameraId ? (await ctx.db.query<{ name: string }>('SELECT name FROM cameras WHERE id = $1', [c.cameraId])).rows[0] : undefined;
  return {
    ...c,
    cameraName: cam?.name ?? null,
    history: await caseHistory(ctx.db, c.id),
    actions: allowedActions(c, user.role).map((action) => ({ action, needs: CASE_ACTIONS[action].needs })),
    handoffs: handoffs.rows,
    sourceEvent: event,
    incident,
  };
}

/** A case is dispatched to a department of the table (an admin edits it), enabled. */
export async function assertDepartment(q: Queryable, name: string): Promise<void> {
  const r = await q.query('SELECT 1 FROM departments WHERE name = $1 AND enabled', [name.trim()]);
  if (!r.rowCount) {
    throw new HttpError(400, `“${name}”不是启用的处置部门 "${name}" is not an enabled department`, { department: '请从部门列表中选择 pick a department from the list' });
  }
}

async function visibleCamera(ctx: AppContext, user: { role: Role }, id: string): Promise<boolean> {
  const r = await ctx.db.query(`SELECT 1 FROM cameras c WHERE c.id = $1 AND ${visibilityCondition(user)}`, [id]);
  return r.rowCount > 0;
}
