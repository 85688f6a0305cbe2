import type { Queryable } from '../db/db.js';
import { seesRestrictedCameras, type Role } from '../auth/roles.js';
import { maskName, maskPhone } from './mask.js';
import type { IncidentStatus } from './incident-status.js';

export interface IncidentInput {
  ticketNo: string;
  reportedAt: string;
  callerPhone?: string;
  callerName?: string;
  address: string;
  lat?: number;
  lng?: number;
  reportText: string;
  categoryCode: string;
  categoryName?: string;
  jurisdictionUnit?: string;
  adminCode?: string;
  confidential?: boolean;
  cameraId?: string;
  /** fields a newer 110 system sent that this version does not know: kept as sent */
  [unknown: string]: unknown;
}

export interface Incident {
  id: string;
  ticketNo: string;
  reportedAt: Date;
  receivedAt: Date;
  callerPhone: string | null;
  callerName: string | null;
  address: string;
  lat: number | null;
  lng: number | null;
  reportText: string;
  categoryCode: string;
  categoryName: string | null;
  /** null: the category code is not in the local map yet (unclassified) */
  eventType: string | null;
  unclassified: boolean;
  extraFields: Record<string, unknown>;
  eventName: string | null;
  jurisdictionUnit: string | null;
  adminCode: string | null;
  confidential: boolean;
  cameraId: string | null;
  status: IncidentStatus;
  statusAt: Date;
  caseId: string | null;
  caseNo: string | null;
  caseStatus: string | null;
  returnReason: string | null;
  handleResult: string | null;
  handledUnit: string | null;
  satisfaction: 1 | 2 | 3 | null;
  satisfactionNote: string | null;
  satisfactionAt: Date | null;
  via: 'api' | 'desk';
}

/** Who reads: an API key (sees its own incidents, in full), or a signed-in role. */
export type Reader = { kind: 'key'; apiKeyId: string } | { kind: 'user'; id: string; role: Role };

export const SATISFACTION = { satisfied: 1, basically_satisfied: 2, dissatisfied: 3 } as const;

function columns(reader: Reader): string {
  const camVisible = reader.kind === 'key' || seesRestrictedCameras(reader.role) ? 'TRUE' : `cam.sharing IS DISTINCT FROM 'restricted'`;
  return `i.id, i.ticket_no AS "ticketNo", i.reported_at AS "reportedAt", i.received_at AS "receivedAt",
    i.caller_phone AS "callerPhone", i.caller_name AS "callerName", i.address, i.lat, i.lng, i.report_text AS "reportText",
    i.category_code AS "categoryCode", i.category_name AS "categoryName", i.event_type AS "eventType", et.name_zh AS "eventName",
    (i.event_type IS NULL) AS unclassified, i.extra_fields AS "extraFields",
    i.jurisdiction_unit AS "jurisdictionUnit", i.admin_code AS "adminCode", i.confidential,
    CASE WHEN ${camVisible} THEN i.camera_id END AS "cameraId", i.status, i.status_at AS "statusAt", i.case_id AS "caseId",
    c.case_no AS "caseNo", c.status AS "caseStatus", i.return_reason AS "returnReason", i.handle_result AS "handleResult",
    i.handled_unit AS "handledUnit", i.satisfaction::int AS satisfaction, i.satisfaction_note AS "satisfactionNote",
    i.satisfaction_at AS "satisfactionAt", CASE WHEN i.api_key_id IS NULL THEN 'desk' ELSE 'api' END AS via`;
}
const FROM = `incidents_110 i LEFT JOIN event_types et ON et.key = i.event_type LEFT JOIN cases c ON c.id = i.case_id
  LEFT JOIN cameras cam ON cam.id = i.camera_id`;

/** Full caller details only for police110, admin and the 110 system itself, and never in lists. */
export function mayReadPersonal(reader: Reader): boolean {
  return reader.kind === 'key' || reader.role === 'police110' || reader.role === 'admin';
}

function masked(i: Incident): Incident {
  return { ...i, callerPhone: maskPhone(i.callerPhone), callerName: maskName(i.callerName) };
}

function scope(reader: Reader, params: unknown[]): string {
  if (reader.kind === 'key') {
    params.push(reader.apiKeyId);
    return `i.api_key_id = $${params.length}`;
  }
  return 'TRUE';
}

export async function getIncident(q: Queryable, reader: Reader, ticketNo: string, opts: { full: boolean }): Promise<Incident | null> {
  const params: unknown[] = [ticketNo];
  const res = await q.query<Incident>(`SELECT ${columns(reader)} FROM ${FROM} WHERE i.ticket_no = $1 AND ${scope(reader, params)}`, params);
  const row = res.rows[0];
  if (!row) return null;
  return opts.full && mayReadPersonal(reader) ? row : masked(row);
}

export interface IncidentFilters {
  status?: IncidentStatus;
  mine?: boolean;
  q?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

export async function listIncidents(q: Queryable, reader: Reader, f: IncidentFilters): Promise<{ items: Incident[]; total: number }> {
  const params: unknown[] = [];
  const where = [scope(reader, params)];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.status) add((n) => `i.status = $${n}`, f.status);
  if (f.mine && reader.kind === 'user') add((n) => `i.submitted_by = $${n}`, reader.id);
  if (f.q) add((n) => `(i.ticket_no ILIKE $${n} OR i.address ILIKE $${n} OR i.report_text ILIKE $${n})`, `%${f.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  if (f.from) add((n) => `i.received_at >= $${n}`, new Date(f.from));
  if (f.to) add((n) => `i.received_at < $${n}`, new Date(f.to));
  const clause = where.join(' AND ');
  const rows = await q.query<Incident>(
    `SELECT ${columns(reader)} FROM ${FROM} WHERE ${clause} ORDER BY i.received_at DESC, i.ticket_no LIMIT ${f.limit} OFFSET ${f.offset}`, params);
  const count = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents_110 i WHERE ${clause}`, params);
  return { items: rows.rows.map(masked), total: count.rows[0].n };
}

export async function incidentHistory(q: Queryable, incidentId: string) {
  const res = await q.query<{ at: Date; status: string; note: string | null; actor: string | null }>(
    'SELECT at, status, note, actor_name AS actor FROM incident_history WHERE incident_id = $1 ORDER BY at, id', [incidentId]);
  return res.rows;
}
