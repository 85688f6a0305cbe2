/**
 * Assessment (综合评价) KPIs, computed exactly by the standards notes' formulas over a period P = [from, to),
 * everything evaluated "as of `to`" (a case closed after `to` counts as not closed in P's report).
 *
 * Populations:
 *   C  = cases filed in P (cases.filed_at ∈ P).
 *   reported (上报数) = reports collected in P: 110 incidents received in P (any outcome) + AI candidate events raised
 *        in P that a person reviewed (confirmed or rejected; pending/expired candidates are machine suggestions, not
 *        reports — AI only recommends) + manual cases filed in P.
 *   filed reports = those of `reported` that became a case (110 accepted, AI confirmed, manual = always).
 *   void(c)        = c.voided_at < to
 *   dueToClose (应结案数) = c ∈ C, not void, and (due_at < to, or closed before to although not yet due)
 *   dueToHandle (应处置数) = c ∈ C, not void, dispatched before to
 *
 *   立案率 filingRate          = filed reports / reported
 *   结案率 closingRate         = closed (closed_at < to) / dueToClose
 *   按期结案率 onTimeRate       = closed with closed_at <= due_at / dueToClose
 *   处置率 handlingRate        = handled (handled_at < to) / dueToHandle
 *   返工率 reworkRate          = dueToClose cases with a rework (返工) before to / dueToClose
 *   准确立案率 accurateFilingRate = (|C| − void) / |C|
 *   average handling time     = mean(handled_at − dispatched_at) over handled cases, in hours (first dispatch to
 *                               final handling, so a rework's extra time counts)
 *   AI precision              = confirmed / (confirmed + rejected) over AI candidates reviewed in P
 *   camera online rate        = online cameras / cameras, online as on the Fleet page (fleet/status.ts: live, or reachable
 *                               by the last probe or when last watched; a failed stream login is not online); current
 *
 * Groups: department = the unit a case is dispatched to (reports, AI candidates and cameras have none: null there),
 * district = the case's district (110: its case's or camera's; AI: the camera's), eventType = event_types.key.
 * AI precision and camera online rate count only cameras the viewer may see.
 * A rate with a zero denominator is null, never 0 or 1.
 */
import { onlineCondition } from '../fleet/status.js';
import type { Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { reviewedPerGroup, reviewedReportsSql } from '../review/events-repo.js';
import { precision, type PrecisionWindow } from '../review/precision.js';

import { KPI_COLUMNS, type GroupBy, type KpiReport, type KpiRow, type Ratio } from './kpi-types.js';

export { KPI_COLUMNS, type GroupBy, type KpiReport, type KpiRow, type Ratio };

const round4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);
const ratio = (numerator: number, denominator: number): Ratio => ({
  numerator, denominator, value: round4(denominator > 0 ? numerator / denominator : null),
});
/** AI precision by the one definition (review/precision.ts), over the window AI_PRECISION_WINDOW. */
const aiPrecision = (confirmed: number, reviewed: number): Ratio => ({
  numerator: confirmed, denominator: reviewed, value: round4(precision({ confirmed, rejected: reviewed - confirmed })),
});

const CASE_GROUP: Record<GroupBy, string> = { department: 'c.dispatched_to', district: 'c.district', eventType: 'c.event_type' };
const INCIDENT_GROUP: Record<GroupBy, string | null> = { department: null, district: 'coalesce(c.district, cam.district)', eventType: 'coalesce(c.event_type, i.event_type)' };
const EVENT_GROUP: Record<GroupBy, string | null> = { department: null, district: 'cam.district', eventType: 'e.event_type' };
const CAMERA_GROUP: Record<GroupBy, string | null> = { department: null, district: 'cam.district', eventType: null };

/** KPI precision counts the reviews made in the period (kpi-types.ts states it in the column's label). */
const AI_PRECISION_WINDOW = (from: Date, to: Date): PrecisionWindow => ({ by: 'reviewed_at', from, to });

type Counts = Record<string, number>;
const keyOf = (g: string | null) => g ?? '\u0000';

async function grouped(q: Queryable, sql: string, params: unknown[]): Promise<Map<string, Counts>> {
  return countsByGroup((await q.query<Record<string, unknown>>(sql, params)).rows);
}

function countsByGroup(rows: Array<Record<string, unknown>>): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const r of rows) {
    const counts: Counts = {};
    for (const [k, v] of Object.entries(r)) if (k !== 'g') counts[k] = v === null ? 0 : Number(v);
    out.set(keyOf(r.g as string | null), counts);
  }
  return out;
}

async function compute(q: Queryable, viewer: Pick<SessionUser, 'role'>, from: Date, to: Date, groupBy: GroupBy | null): Promise<Map<string, KpiRow>> {
  const p = [from, to];
  const g = (expr: string | null) => (groupBy === null ? `'*'::text` : expr ?? 'NULL::text');
  const vis = visibilityCondition(viewer, 'cam');
  const notVoid = `(c.voided_at IS NULL OR c.voided_at >= $2)`;
  const dueToClose = `(${notVoid} AND ((c.due_at IS NOT NULL AND c.due_at < $2) OR (c.closed_at IS NOT NULL AND c.closed_at < $2)))`;
  const dueToHandle = `(${notVoid} AND c.dispatched_at IS NOT NULL AND c.dispatched_at < $2)`;
  const handled = `(${dueToHandle} AND c.handled_at IS NOT NULL AND c.handled_at < $2)`;
  const cases = await grouped(q, `
    SELECT ${g(CASE_GROUP[groupBy ?? 'district'])} AS g,
      count(*) AS filed,
      count(*) FILTER (WHERE NOT ${notVoid}) AS voided,
      count(*) FILTER (WHERE ${dueToClose}) AS due_to_close,
      count(*) FILTER (WHERE ${dueToClose} AND c.closed_at < $2) AS closed,
      count(*) FILTER (WHERE ${dueToClose} AND c.closed_at < $2 AND c.closed_at <= c.due_at) AS on_time,
      count(*) FILTER (WHERE ${dueToClose} AND EXISTS (SELECT 1 FROM case_history h WHERE h.case_id = c.id AND h.action = 'rework' AND h.at < $2)) AS reworked,
      count(*) FILTER (WHERE ${dueToHandle}) AS due_to_handle,
      count(*) FILTER (WHERE ${handled}) AS handled,
      sum(extract(epoch FROM (c.handled_at - c.dispatched_at))) FILTER (WHERE ${handled}) AS handling_seconds
    FROM cases c WHERE c.filed_at >= $1 AND c.filed_at < $2 GROUP BY 1`, p);

  const reportsGroup = groupBy === 'department' ? null : groupBy;
  const reports = reportsGroup === null && groupBy !== null ? new Map<string, Counts>() : await grouped(q, `
    SELECT g, count(*) AS reported, count(*) FILTER (WHERE became_case) AS filed_reports FROM (
      SELECT ${g(INCIDENT_GROUP[reportsGroup ?? 'district'])} AS g, (c.id IS NOT NULL AND c.filed_at < $2) AS became_case
        FROM incidents_110 i LEFT JOIN cases c ON c.id = i.case_id LEFT JOIN cameras cam ON cam.id = i.camera_id
       WHERE i.received_at >= $1 AND i.received_at < $2
      UNION ALL
      ${reviewedReportsSql(g(EVENT_GROUP[reportsGroup ?? 'district']), vis)}
      UNION ALL
      SELECT ${g(CASE_GROUP[reportsGroup ?? 'district'])}, TRUE
        FROM cases c WHERE c.source = 'manual' AND c.filed_at >= $1 AND c.filed_at < $2
    ) r GROUP BY g`, p);

  const aiGroup = EVENT_GROUP[groupBy ?? 'district'];
  const ai = groupBy !== null && aiGroup === null ? new Map<string, Counts>()
    : countsByGroup(await reviewedPerGroup(q, g(aiGroup), vis, AI_PRECISION_WINDOW(from, to)));

  const camGroup = CAMERA_GROUP[groupBy ?? 'district'];
  const cams = groupBy !== null && camGroup === null ? new Map<string, Counts>() : await grouped(q, `
    SELECT ${g(camGroup)} AS g, count(*) FILTER (WHERE ${onlineCondition('cam')}) AS online, count(*) AS cameras
      FROM cameras cam WHERE ${vis} GROUP BY 1`, []);

  const keys = new Set([...cases.keys(), ...reports.keys(), ...ai.keys(), ...cams.keys()]);
  const rows = new Map<string, KpiRow>();
  for (const k of keys) {
    const c = cases.get(k) ?? {};
    const n = (x: number | undefined) => x ?? 0;
    const r = reports.get(k);
    const a = ai.get(k);
    const m = cams.get(k);
    rows.set(k, {
      group: k === '\u0000' ? null : k,
      filingRate: groupBy === 'department' ? null : ratio(n(r?.filed_reports), n(r?.reported)),
      closingRate: ratio(n(c.closed), n(c.due_to_close)),
      onTimeRate: ratio(n(c.on_time), n(c.due_to_close)),
      handlingRate: ratio(n(c.handled), n(c.due_to_handle)),
      reworkRate: ratio(n(c.reworked), n(c.due_to_close)),
      accurateFilingRate: ratio(n(c.filed) - n(c.voided), n(c.filed)),
      avgHandlingHours: { count: n(c.handled), value: n(c.handled) ? Math.round((n(c.handling_seconds) / n(c.handled) / 3600) * 100) / 100 : null },
      aiPrecision: groupBy === 'department' ? null : aiPrecision(n(a?.confirmed), n(a?.reviewed)),
      cameraOnlineRate: groupBy === 'department' || groupBy === 'eventType' ? null : ratio(n(m?.online), n(m?.cameras)),
    });
  }
  return rows;
}


export async function kpiReport(q: Queryable, viewer: Pick<SessionUser, 'role'>, from: Date, to: Date, groupBy: GroupBy): Promise<KpiReport> {
  const rows = [...(await compute(q, viewer, from, to, groupBy)).values()]
    .sort((a, b) => (a.group === null ? 1 : b.group === null ? -1 : a.group.localeCompare(b.group, 'zh')));
  const total = (await compute(q, viewer, from, to, null)).get('*') ?? (await emptyTotal());
  return { from: from.toISOString(), to: to.toISOString(), groupBy, rows, total: { ...total, group: null } };
}

async function emptyTotal(): Promise<KpiRow> {
  const z = ratio(0, 0);
  return { group: null, filingRate: z, closingRate: z, onTimeRate: z, handlingRate: z, reworkRate: z, accurateFilingRate: z, avgHandlingHours: { value: null, count: 0 }, aiPrecision: z, cameraOnlineRate: z };
}
