import type { FastifyInstance } from 'fastify';
import { stringify } from 'csv-stringify/sync';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { commonErrors, listOf, paging } from '../http/schemas.js';
import type { Queryable } from '../db/db.js';

/**
 * The audit trail, searchable (who, what, target, when, from where) and exportable as CSV, for admins and the
 * police (police110 also read the camera access log: GET /api/camera-access). An export is itself audited.
 */
export const AUDIT_READERS = ['admin', 'police110'] as const;
const EXPORT_MAX = 50_000;

export interface AuditFilters {
  q?: string;
  username?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  ip?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

const filterProps = {
  q: { type: 'string', maxLength: 200 },
  username: { type: 'string', maxLength: 64 },
  action: { type: 'string', maxLength: 64, description: 'exact, or a prefix ending in "." (case.)' },
  targetType: { type: 'string', maxLength: 64 },
  targetId: { type: 'string', maxLength: 200 },
  ip: { type: 'string', maxLength: 64 },
  from: { type: 'string', format: 'date-time' },
  to: { type: 'string', format: 'date-time' },
} as const;

const item = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, at: { type: 'string' }, username: { type: ['string', 'null'] }, action: { type: 'string' },
    targetType: { type: ['string', 'null'] }, targetId: { type: ['string', 'null'] }, ip: { type: ['string', 'null'] },
    detail: { type: 'object', additionalProperties: true },
  },
} as const;

const like = (s: string) => `%${s.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

function whereOf(f: Omit<AuditFilters, 'limit' | 'offset'>): { clause: string; params: unknown[] } {
  const where = ['TRUE'];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.q?.trim()) {
    add((n) => `(a.username ILIKE $${n} OR a.action ILIKE $${n} OR a.target_id ILIKE $${n} OR a.target_type ILIKE $${n} OR a.detail::text ILIKE $${n} OR a.ip ILIKE $${n})`, like(f.q.trim()));
  }
  if (f.username) add((n) => `a.username = $${n}`, f.username);
  if (f.action) {
    if (f.action.endsWith('.')) add((n) => `a.action LIKE $${n}`, `${f.action.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
    else add((n) => `a.action = $${n}`, f.action);
  }
  if (f.targetType) add((n) => `a.target_type = $${n}`, f.targetType);
  if (f.targetId) add((n) => `a.target_id = $${n}`, f.targetId);
  if (f.ip) add((n) => `a.ip = $${n}`, f.ip);
  if (f.from) add((n) => `a.at >= $${n}`, new Date(f.from));
  if (f.to) add((n) => `a.at < $${n}`, new Date(f.to));
  return { clause: where.join(' AND '), params };
}

const COLUMNS = `a.id, a.at, a.username, a.action, a.target_type AS "targetType", a.target_id AS "targetId", a.ip, a.detail`;

export async function searchAudit(q: Queryable, f: AuditFilters) {
  const { clause, params } = whereOf(f);
  const rows = await q.query(`SELECT ${COLUMNS} FROM audit_log a WHERE ${clause} ORDER BY a.at DESC, a.id DESC LIMIT ${f.limit} OFFSET ${f.offset}`, params);
  const count = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log a WHERE ${clause}`, params);
  return { items: rows.rows, total: count.rows[0].n };
}

/** A cell that a spreadsheet would run as a formula (=, +, -, @) is quoted with a leading apostrophe. */
function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

export async function auditRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: AuditFilters }>('/api/audit', {
    config: { roles: AUDIT_READERS },
    schema: {
      tags: ['audit'],
      description: 'Newest first. q searches user, action, target, detail and address.',
      querystring: { type: 'object', properties: { ...filterProps, ...paging }, additionalProperties: false },
      response: { 200: listOf(item), ...commonErrors },
    },
  }, async (request) => searchAudit(ctx.db, request.query));

  app.get<{ Querystring: Omit<AuditFilters, 'limit' | 'offset'> }>('/api/audit/export', {
    config: { roles: AUDIT_READERS },
    schema: {
      tags: ['audit'],
      description: `CSV (UTF-8 with BOM for Excel) of the matching entries, newest first, at most ${EXPORT_MAX}.`,
      querystring: { type: 'object', properties: filterProps, additionalProperties: false },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { items } = await searchAudit(ctx.db, { ...request.query, limit: EXPORT_MAX, offset: 0 });
    const header = ['时间 at', '用户 user', '操作 action', '对象类型 target type', '对象 target', '来源地址 ip', '详情 detail'];
    const rows = (items as Array<Record<string, unknown>>).map((r) => [r.at, r.username, r.action, r.targetType, r.targetId, r.ip, r.detail].map(cell));
    await audit(ctx.db, { user, action: 'audit.export', detail: { filters: request.query, rows: rows.length }, ip: request.ip });
    const stamp = new Date().toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
      .send('\uFEFF' + stringify([header, ...rows]));
  });
}
