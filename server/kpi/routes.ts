import type { FastifyInstance } from 'fastify';
import { stringify } from 'csv-stringify/sync';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { commonErrors } from '../http/schemas.js';
import { KPI_COLUMNS, kpiReport, type GroupBy, type KpiRow } from './kpi.js';

const KPI_ROLES = ['admin', 'operator'] as const;
const ratio = { type: ['object', 'null'], properties: { value: { type: ['number', 'null'] }, numerator: { type: 'integer' }, denominator: { type: 'integer' } } } as const;
const row = {
  type: 'object',
  properties: {
    group: { type: ['string', 'null'] },
    ...Object.fromEntries(KPI_COLUMNS.map((c) => [c.key, c.key === 'avgHandlingHours'
      ? { type: 'object', properties: { value: { type: ['number', 'null'] }, count: { type: 'integer' } } }
      : ratio])),
  },
} as const;
const query = {
  type: 'object',
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    groupBy: { type: 'string', enum: ['department', 'district', 'eventType'], default: 'district' },
  },
  required: ['from', 'to'],
  additionalProperties: false,
} as const;
type Query = { from: string; to: string; groupBy: GroupBy };

function period(qs: Query): { from: Date; to: Date } {
  const from = new Date(qs.from);
  const to = new Date(qs.to);
  if (!(to > from)) throw new HttpError(400, '"to" must be after "from"', { to: 'must be after from' });
  if (to.getTime() - from.getTime() > 400 * 86_400_000) throw new HttpError(400, 'Choose a period of at most 400 days', { from: 'period too long' });
  return { from, to };
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

function csvRows(rows: KpiRow[]): string[][] {
  return rows.map((r) => [
    r.group ?? '(none)',
    ...KPI_COLUMNS.flatMap((c) => {
      const v = r[c.key];
      if (c.key === 'avgHandlingHours') { const h = v as KpiRow['avgHandlingHours']; return [fmt(h.value), String(h.count)]; }
      const x = v as KpiRow['closingRate'] | null;
      return x ? [fmt(x.value), String(x.numerator), String(x.denominator)] : ['', '', ''];
    }),
  ]);
}

/** GET /api/kpi (JSON, each KPI with numerator and denominator) and GET /api/kpi/export (CSV, UTF-8 with BOM for Excel). */
export async function kpiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: Query }>('/api/kpi', {
    config: { roles: [...KPI_ROLES] },
    schema: {
      tags: ['kpi'],
      description: 'Assessment KPIs over [from, to) per department, district or event type; formulas in server/kpi/kpi.ts.',
      querystring: query,
      response: {
        200: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, groupBy: { type: 'string' }, rows: { type: 'array', items: row }, total: row } },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { from, to } = period(request.query);
    return kpiReport(ctx.db, currentUser(request), from, to, request.query.groupBy);
  });

  app.get<{ Querystring: Query }>('/api/kpi/export', {
    config: { roles: [...KPI_ROLES] },
    schema: { tags: ['kpi'], querystring: query, response: { 200: { type: 'string' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { from, to } = period(request.query);
    const report = await kpiReport(ctx.db, user, from, to, request.query.groupBy);
    const header = [
      request.query.groupBy,
      ...KPI_COLUMNS.flatMap((c) => (c.key === 'avgHandlingHours' ? [c.zh, `${c.zh} 案件数`] : [c.zh, `${c.zh} 分子`, `${c.zh} 分母`])),
    ];
    const body = stringify([header, ...csvRows(report.rows), ...csvRows([{ ...report.total, group: '合计' }])]);
    await audit(ctx.db, { user, action: 'kpi.export', detail: { from: report.from, to: report.to, groupBy: report.groupBy }, ip: request.ip });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="kpi-${request.query.groupBy}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv"`)
      .send('\uFEFF' + body);
  });
}
