import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import type { Role } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, paging } from '../http/schemas.js';
import { createCase } from '../cases/case-service.js';
import { recordIncidentStatus } from './incident-status.js';
import { publishAll } from '../bus.js';
import { CONTROL_CHARS } from '../http/text-rules.js';
import {
  getIncident, incidentHistory, listIncidents, SATISFACTION,
  type Incident, type IncidentFilters, type IncidentInput, type Reader,
} from './incidents.js';

const str = { type: ['string', 'null'] } as const;
export const incidentReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, ticketNo: { type: 'string' }, reportedAt: { type: 'string' }, receivedAt: { type: 'string' },
    callerPhone: str, callerName: str, address: { type: 'string' }, lat: { type: ['number', 'null'] }, lng: { type: ['number', 'null'] },
    reportText: { type: 'string' }, categoryCode: { type: 'string' }, categoryName: str, eventType: str, eventName: str,
    unclassified: { type: 'boolean' }, extraFields: { type: 'object', additionalProperties: true },
    jurisdictionUnit: str, adminCode: str, confidential: { type: 'boolean' }, cameraId: str, status: { type: 'string' },
    statusAt: { type: 'string' }, caseId: str, caseNo: str, caseStatus: str, returnReason: str, handleResult: str, handledUnit: str,
    satisfaction: { type: ['integer', 'null'] }, satisfactionNote: str, satisfactionAt: str, via: { type: 'string' },
    history: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, status: { type: 'string' }, note: str, actor: str } } },
  },
} as const;

const receiptReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, ticketNo: { type: 'string' }, status: { type: 'string' }, receivedAt: { type: 'string' },
    duplicate: { type: 'boolean' }, message: { type: 'string' }, unclassified: { type: 'boolean' },
  },
} as const;

const TICKET = '^[0-9A-Za-z_-]{1,64}$';
const ticketParam = { type: 'object', properties: { ticket: { type: 'string', pattern: TICKET } }, required: ['ticket'], additionalProperties: false } as const;

/** The fields a 110 system pushes (see shared/standards: 非警务警情分流). */
const incidentBody = {
  type: 'object',
  properties: {
    ticketNo: { type: 'string', pattern: TICKET },
    reportedAt: { type: 'string', format: 'date-time' },
    callerPhone: { type: 'string', maxLength: 32, pattern: '^[0-9+() -]{3,32}$' },
    callerName: { type: 'string', minLength: 1, maxLength: 50 },
    address: { type: 'string', minLength: 1, maxLength: 300 },
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lng: { type: 'number', minimum: -180, maximum: 180 },
    reportText: { type: 'string', minLength: 1, maxLength: 4000 },
    categoryCode: { type: 'string', pattern: '^[0-9A-Za-z_.-]{1,32}$' },
    categoryName: { type: 'string', maxLength: 100 },
    jurisdictionUnit: { type: 'string', maxLength: 100 },
    adminCode: { type: 'string', pattern: '^[0-9]{6,12}$' },
    confidential: { type: 'boolean' },
    cameraId: { type: 'string', format: 'uuid' },
  },
  required: ['ticketNo', 'reportedAt', 'address', 'reportText', 'categoryCode'],
  // newer 110 systems send fields this version does not know: they are kept (extra_fields), not refused, unless
  // they collide with a known field (see splitExtraFields)
  additionalProperties: true,
  maxProperties: 64,
} as const;

const KNOWN_FIELDS = Object.keys(incidentBody.properties);
const comparable = (k: string) => k.toLowerCase().replace(/[_-]/g, '');
const KNOWN_COMPARABLE = new Map(KNOWN_FIELDS.map((k) => [comparable(k), k]));

/**
 * The fields StreetEye does not know, to keep as sent. One that spells a known field differently (TicketNo,
 * ticket_no, category-code) collides: which of the two is meant cannot be known, so the hand-off is refused.
 */
export function splitExtraFields(body: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (KNOWN_FIELDS.includes(k)) continue;
    const clash = KNOWN_COMPARABLE.get(comparable(k));
    if (clash) throw new HttpError(400, `Field "${k.slice(0, 64)}" collides with the known field ${clash} / 字段 ${k.slice(0, 64)} 与已知字段 ${clash} 冲突`, { [k.slice(0, 64)]: `collides with ${clash}` });
    if (k.length > 64 || CONTROL_CHARS.test(k)) throw new HttpError(400, 'Unknown field names must be at most 64 characters without control characters / 未知字段名过长或含控制字符', { extraFields: 'bad field name' });
    extra[k] = v;
  }
  return extra;
}

const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['received', 'accepted', 'dispatched', 'handled', 'closed', 'returned'] },
    mine: { type: 'boolean' }, q: { type: 'string', maxLength: 100 },
    from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, ...paging,
  },
  additionalProperties: false,
} as const;

/** Who may use the machine routes with a session instead of a key. */
const DESK_ROLES: Role[] = ['admin', 'police110'];
const READ_ROLES: Role[] = ['admin', 'operator', 'police110'];
const CENTER_ROLES: Role[] = ['admin', 'operator'];

function readerOf(request: FastifyRequest): Reader {
  if (request.apiKey) return { kind: 'key', apiKeyId: request.apiKey.id };
  const u = currentUser(request);
  return { kind: 'user', id: u.id, role: u.role };
}

export async function incidentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const detail = async (reader: Reader, ticket: string): Promise<Incident & { history: unknown[] }> => {
    const inc = await getIncident(ctx.db, reader, ticket, { full: true });
    if (!inc) throw notFound('Incident');
    return { ...inc, history: await incidentHistory(ctx.db, inc.id) };
  };

  app.post<{ Body: IncidentInput }>('/api/110/incidents', {
    config: { public: true, apiKeyScope: '110', sessionRoles: DESK_ROLES },
    bodyLimit: 64 * 1024,
    schema: {
      tags: ['110'],
      description: 'Hand-off of a non-police incident. Idempotent by ticketNo: a repeat answers 200 with the first receipt.',
      body: incidentBody,
      response: { 200: receiptReply, 201: receiptReply, 413: errorReply, 415: errorReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const b = request.body;
    const actor = request.user;
    const extra = splitExtraFields(b as Record<string, unknown>);
    // a code not in the local map (or switched off) is kept as sent and marked unclassified: the incident is never lost
    // at the door; the desk classifies it (POST …/classify) and may add the code to the map
    const mapped = (await ctx.db.query<{ event_type: string; name: string }>(
      'SELECT event_type, name FROM category_map_110 WHERE code = $1 AND enabled', [b.categoryCode])).rows[0];
    const eventType = mapped?.event_type ?? null;
    const categoryName = b.categoryName ?? mapped?.name ?? null;
    if (b.cameraId) {
      const cam = await ctx.db.query('SELECT 1 FROM cameras WHERE id = $1', [b.cameraId]);
      if (!cam.rowCount) throw new HttpError(400, 'The camera does not exist', { cameraId: 'is not a known camera' });
    }
    const created = await ctx.db.tx(async (q) => {
      const ins = await q.query<{ id: string; received_at: Date; status: string }>(
        `INSERT INTO incidents_110 (ticket_no, api_key_id, submitted_by, reported_at, caller_phone, caller_name, address, lat, lng,
                                    report_text, category_code, category_name, event_type, jurisdiction_unit, admin_code, confidential, camera_id, extra_fields)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (ticket_no) DO NOTHING
         RETURNING id, received_at, status`,
        [b.ticketNo, request.apiKey?.id ?? null, actor?.id ?? null, new Date(b.reportedAt), b.callerPhone ?? null, b.callerName ?? null,
          b.address, b.lat ?? null, b.lng ?? null, b.reportText, b.categoryCode, categoryName, eventType,
          b.jurisdictionUnit ?? null, b.adminCode ?? null, b.confidential ?? false, b.cameraId ?? null, JSON.stringify(extra)]);
      const row = ins.rows[0];
      if (!row) return null;
      await q.query(`INSERT INTO incident_history (incident_id, at, status, note, actor_id, actor_name) VALUES ($1, $2, 'received', $3, $4, $5)`,
        [row.id, row.received_at, request.apiKey ? `via API key ${request.apiKey.name}` : 'entered at the 110 desk', actor?.id ?? null, actor?.username ?? request.apiKey?.name ?? null]);
      await audit(q, { user: actor, action: 'incident110.receive', targetType: 'incident_110', targetId: row.id, detail: { ticketNo: b.ticketNo, apiKey: request.apiKey?.name ?? null }, ip: request.ip });
      return row;
    });
    if (created) {
      // incident.created: the wall's alarm tile jumps to the camera; incident.updated: the desk's live status.
      ctx.bus.publish('incident.created', { id: created.id, ticketNo: b.ticketNo, cameraId: b.cameraId ?? null, categoryName, eventType, unclassified: eventType === null, address: b.address, at: new Date(created.received_at).toISOString() }, b.cameraId);
      ctx.bus.publish('incident.updated', { id: created.id, ticketNo: b.ticketNo, status: 'received', at: new Date(created.received_at).toISOString(), caseNo: null }, b.cameraId);
      return reply.code(201).send({ id: created.id, ticketNo: b.ticketNo, status: created.status, receivedAt: created.received_at, duplicate: false, unclassified: eventType === null,
        message: eventType === null ? '已接收，类别代码未映射，待分类 (received; the category code is not mapped: unclassified until the desk classifies it)' : '已接收 (received)' });
    }
    const existing = await ctx.db.query<{ id: string; received_at: Date; status: string }>(
      'SELECT id, received_at, status FROM incidents_110 WHERE ticket_no = $1', [b.ticketNo]);
    const e = existing.rows[0];
    return reply.code(200).send({ id: e.id, ticketNo: b.ticketNo, status: e.status, receivedAt: e.received_at, duplicate: true, message: 'already received; this is the first receipt' });
  });

  app.get<{ Querystring: IncidentFilters }>('/api/110/incidents', {
    config: { public: true, apiKeyScope: '110', sessionRoles: READ_ROLES },
    schema: { tags: ['110'], description: 'Caller phone and name are masked in lists.', querystring: listQuery, response: { 200: listOf(incidentReply), ...commonErrors } },
  }, async (request) => listIncidents(ctx.db, readerOf(request), request.query));

  app.get<{ Params: { ticket: string } }>('/api/110/incidents/:ticket', {
    config: { public: true, apiKeyScope: '110', sessionRoles: READ_ROLES },
    schema: { tags: ['110'], description: 'Status and history. Caller details in full only for police110, admin and the 110 system.', params: ticketParam, response: { 200: incidentReply, ...commonErrors } },
  }, async (request) => {
    const reader = readerOf(request);
    const inc = await detail(reader, request.params.ticket);
    if (reader.kind === 'user' && (reader.role === 'admin' || reader.role === 'police110') && (inc.callerPhone || inc.callerName)) {
      await audit(ctx.db, { user: currentUser(request), action: 'incident110.view_personal', targetType: 'incident_110', targetId: inc.id, detail: { ticketNo: inc.ticketNo }, ip: request.ip });
    }
    return inc;
  });

  app.post<{ Params: { ticket: string }; Body: { eventType?: string; gridCode?: string; district?: string; note?: string } }>('/api/110/incidents/:ticket/accept', {
    config: { roles: CENTER_ROLES },
    schema: {
      tags: ['110'],
      description: 'The center accepts the incident: files a case (source 110) and tells the 110 system.',
      params: ticketParam,
      body: {
        type: 'object',
        properties: {
          eventType: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,63}$' }, gridCode: { type: 'string', pattern: '^([0-9]{14}|[0-9A-Z]{15})$' },
          district: { type: 'string', maxLength: 50 }, note: { type: 'string', maxLength: 1000 },
        },
        additionalProperties: false,
      },
      response: { 200: incidentReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const notifications = await ctx.db.tx(async (q) => {
      const cur = await q.query<{ id: string; status: string; event_type: string | null; address: string; lat: number | null; lng: number | null;
        camera_id: string | null; report_text: string; reported_at: Date; ticket_no: string; category_name: string | null }>(
        `SELECT id, status, event_type, address, lat, lng, camera_id, report_text, reported_at, ticket_no, category_name
           FROM incidents_110 WHERE ticket_no = $1 FOR UPDATE`, [request.params.ticket]);
      const inc = cur.rows[0];
      if (!inc) throw notFound('Incident');
      if (inc.status !== 'received') throw new HttpError(409, `This incident is already ${inc.status}`);
      const eventType = request.body.eventType ?? inc.event_type;
      if (!eventType) throw new HttpError(409, 'This incident is unclassified: classify it first (or give eventType) / 该警情尚未分类，请先分类', { eventType: 'is required for an unclassified incident' });
      const c = await createCase(q, {
        source: '110', sourceRef: inc.ticket_no, eventType, gridCode: request.body.gridCode,
        district: request.body.district, lat: inc.lat, lng: inc.lng, address: inc.address, cameraId: inc.camera_id,
        description: `[110 ${inc.ticket_no}${inc.category_name ? ` ${inc.category_name}` : ''}] ${inc.report_text}`,
        reportedAt: inc.reported_at, actor: user,
      });
      const n = await recordIncidentStatus(q, inc.id, { status: 'accepted', at: new Date(), actor: user, note: request.body.note ?? null, caseId: c.id, caseNo: c.caseNo });
      await audit(q, { user, action: 'incident110.accept', targetType: 'incident_110', targetId: inc.id, detail: { ticketNo: inc.ticket_no, caseNo: c.caseNo }, ip: request.ip });
      return [n!, { topic: 'case.updated' as const, payload: { id: c.id, caseNo: c.caseNo, status: c.status, action: 'file' }, cameraId: c.cameraId ?? undefined }];
    });
    publishAll(ctx.bus, notifications);
    return detail({ kind: 'user', id: user.id, role: user.role }, request.params.ticket);
  });

  app.post<{ Params: { ticket: string }; Body: { eventType: string; addToMap?: boolean } }>('/api/110/incidents/:ticket/classify', {
    config: { roles: CENTER_ROLES.concat('police110') },
    schema: {
      tags: ['110'],
      description: 'Classifies an incident whose 110 category code is not in the local map (or reclassifies one still received). '
        + 'addToMap (admin): also maps the code to this event type, so the next hand-offs with it arrive classified.',
      params: ticketParam,
      body: {
        type: 'object',
        properties: { eventType: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,63}$' }, addToMap: { type: 'boolean' } },
        required: ['eventType'],
        additionalProperties: false,
      },
      response: { 200: incidentReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { eventType, addToMap } = request.body;
    if (addToMap && user.role !== 'admin') throw new HttpError(403, 'Only an admin adds codes to the 110 category map / 仅管理员可添加类别映射');
    const note = await ctx.db.tx(async (q) => {
      const et = await q.query('SELECT 1 FROM event_types WHERE key = $1', [eventType]);
      if (!et.rowCount) throw new HttpError(400, `Unknown event type ${eventType}`, { eventType: 'is not an event type' });
      const cur = await q.query<{ id: string; status: string; category_code: string; category_name: string | null; camera_id: string | null }>(
        'SELECT id, status, category_code, category_name, camera_id FROM incidents_110 WHERE ticket_no = $1 FOR UPDATE', [request.params.ticket]);
      const inc = cur.rows[0];
      if (!inc) throw notFound('Incident');
      if (inc.status !== 'received') throw new HttpError(409, `This incident is already ${inc.status}`);
      await q.query('UPDATE incidents_110 SET event_type = $2, updated_at = now() WHERE id = $1', [inc.id, eventType]);
      let mapped = false;
      if (addToMap) {
        const ins = await q.query(
          `INSERT INTO category_map_110 (code, name, event_type, updated_by) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`,
          [inc.category_code, (inc.category_name ?? inc.category_code).slice(0, 100), eventType, user.id]);
        mapped = (ins.rowCount ?? 0) > 0;
      }
      await audit(q, { user, action: 'incident110.classify', targetType: 'incident_110', targetId: inc.id, detail: { ticketNo: request.params.ticket, eventType, categoryCode: inc.category_code, addedToMap: mapped }, ip: request.ip });
      return inc;
    });
    ctx.bus.publish('incident.updated', { id: note.id, ticketNo: request.params.ticket, status: note.status, eventType, at: new Date().toISOString(), caseNo: null }, note.camera_id ?? undefined);
    return detail({ kind: 'user', id: user.id, role: user.role }, request.params.ticket);
  });

  app.post<{ Params: { ticket: string }; Body: { reason: string } }>('/api/110/incidents/:ticket/return', {
    config: { roles: CENTER_ROLES },
    schema: {
      tags: ['110'],
      description: 'Sends the incident back to 110 (退回) with the reason.',
      params: ticketParam,
      body: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } }, required: ['reason'], additionalProperties: false },
      response: { 200: incidentReply, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const reason = request.body.reason.trim();
    if (!reason) throw new HttpError(400, 'Give the reason for sending it back', { reason: 'is required' });
    const n = await ctx.db.tx(async (q) => {
      const cur = await q.query<{ id: string; status: string }>('SELECT id, status FROM incidents_110 WHERE ticket_no = $1 FOR UPDATE', [request.params.ticket]);
      const inc = cur.rows[0];
      if (!inc) throw notFound('Incident');
      if (inc.status !== 'received') throw new HttpError(409, `Only a received incident can be sent back; this one is ${inc.status}`);
      await audit(q, { user, action: 'incident110.return', targetType: 'incident_110', targetId: inc.id, detail: { ticketNo: request.params.ticket }, ip: request.ip });
      return recordIncidentStatus(q, inc.id, { status: 'returned', at: new Date(), actor: user, note: reason });
    });
    if (n) publishAll(ctx.bus, [n]);
    return detail({ kind: 'user', id: user.id, role: user.role }, request.params.ticket);
  });

  app.post<{ Params: { ticket: string }; Body: { satisfaction: keyof typeof SATISFACTION | 1 | 2 | 3; note?: string } }>('/api/110/incidents/:ticket/satisfaction', {
    config: { public: true, apiKeyScope: '110', sessionRoles: DESK_ROLES },
    schema: {
      tags: ['110'],
      description: 'Callback satisfaction (回访): 1 satisfied, 2 basically satisfied, 3 dissatisfied (numbers or names).',
      params: ticketParam,
      body: {
        type: 'object',
        properties: {
          satisfaction: { anyOf: [{ type: 'integer', enum: [1, 2, 3] }, { type: 'string', enum: Object.keys(SATISFACTION) }] },
          note: { type: 'string', maxLength: 1000 },
        },
        required: ['satisfaction'],
        additionalProperties: false,
      },
      response: { 200: incidentReply, ...commonErrors },
    },
  }, async (request) => {
    const reader = readerOf(request);
    const s = request.body.satisfaction;
    const value = typeof s === 'number' ? s : SATISFACTION[s];
    await ctx.db.tx(async (q) => {
      const params: unknown[] = [request.params.ticket];
      const own = reader.kind === 'key' ? ` AND api_key_id = $2` : '';
      if (reader.kind === 'key') params.push(reader.apiKeyId);
      const cur = await q.query<{ id: string; status: string }>(`SELECT id, status FROM incidents_110 WHERE ticket_no = $1${own} FOR UPDATE`, params);
      const inc = cur.rows[0];
      if (!inc) throw notFound('Incident');
      if (inc.status !== 'handled' && inc.status !== 'closed') throw new HttpError(409, `Satisfaction is recorded after handling; this incident is ${inc.status}`);
      await q.query('UPDATE incidents_110 SET satisfaction = $2, satisfaction_note = $3, satisfaction_at = now(), updated_at = now() WHERE id = $1',
        [inc.id, value, request.body.note ?? null]);
      await audit(q, { user: request.user, action: 'incident110.satisfaction', targetType: 'incident_110', targetId: inc.id, detail: { ticketNo: request.params.ticket, satisfaction: value, apiKey: request.apiKey?.name ?? null }, ip: request.ip });
    });
    return detail(reader, request.params.ticket);
  });
}
