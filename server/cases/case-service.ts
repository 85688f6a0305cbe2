/**
 * The case service (案卷): one place that files cases and moves them through their lifecycle, used by the
 * review desk (AI confirm → source 'ai'), the 110 desk (accept → source '110') and manual filing.
 *
 *   filed → dispatched → handled → verified → closed      (立案 → 派遣 → 处置 → 核查 → 结案)
 *   rework (返工): handled|verified → dispatched           (the check failed; counted in rework_count for 返工率)
 *   void (作废): from any open status, with a reason
 *
 * Who may act (route roles: admin, operator, reviewer; the action decides):
 *   dispatch, handle, close, void — admin, operator (the seat operator dispatches and records the unit's feedback)
 *   verify, rework               — admin, operator, reviewer (reviewers do the check 核查)
 *
 * Every function takes the caller's transaction (`q` from db.tx): a case, its history row and its outbox row
 * commit together. Filing writes an outbox row for the city platform ('case.filed'); transitions of a 110 case
 * update the incident and queue its feedback to the 110 system (desk110/case-sync.ts).
 */
import type { BusMessage } from '../bus.js';
import type { Queryable } from '../db/db.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { seesRestrictedCameras } from '../auth/roles.js';
import { HttpError, notFound } from '../http/errors.js';
import { enqueue } from '../outbox/outbox.js';
import { syncIncidentFromCase } from '../desk110/case-sync.js';
import { addWorkingHours, WORKING_CALENDAR, type WorkingCalendar } from './working-hours.js';
import { nextCaseNo } from './case-number.js';

export type CaseSource = 'ai' | '110' | 'manual';
export type CaseStatus = 'filed' | 'dispatched' | 'handled' | 'verified' | 'closed' | 'void';
export type CaseAction = 'dispatch' | 'handle' | 'verify' | 'close' | 'void' | 'rework';
export type Actor = Pick<SessionUser, 'id' | 'username'> | null;

export interface NewCase {
  source: CaseSource;
  /** 110 ticket number, AI event id, ...: (source, sourceRef) is unique. */
  sourceRef?: string | null;
  /** event_types.key; its code in force is copied onto the case. */
  eventType: string;
  gridCode?: string | null;
  district?: string | null;
  lat?: number | null;
  lng?: number | null;
  address?: string | null;
  cameraId?: string | null;
  description?: string | null;
  /** e.g. [{kind: 'jpeg', path: 'evidence/…'}]; kept as given. */
  evidence?: unknown[];
  /** When the report came in (110 report time, first sighting); defaults to the filing time. */
  reportedAt?: Date | string | null;
  /** Who files (the reviewer who confirmed, the operator who accepted). */
  actor: Actor;
  /** Filing time; defaults to now (tests and imports pass their own). */
  at?: Date;
  calendar?: WorkingCalendar;
}

export interface CaseRecord {
  id: string;
  caseNo: string;
  source: CaseSource;
  sourceRef: string | null;
  eventType: string;
  eventCode: string;
  eventName: string | null;
  gridCode: string | null;
  district: string | null;
  lat: number | null;
  lng: number | null;
  address: string | null;
  cameraId: string | null;
  description: string | null;
  evidence: unknown[];
  status: CaseStatus;
  department: string | null;
  handleResult: string | null;
  reworkCount: number;
  dueAt: Date | null;
  reportedAt: Date | null;
  filedAt: Date;
  dispatchedAt: Date | null;
  handledAt: Date | null;
  verifiedAt: Date | null;
  closedAt: Date | null;
  voidedAt: Date | null;
  voidReason: string | null;
  overdue: boolean;
}

export interface CaseHistoryEntry {
  at: Date;
  actor: string | null;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
  detail: Record<string, unknown>;
}

/** Something to push to consoles once the transaction has committed. */
export type Notification = BusMessage;

export const CASE_ACTIONS: Record<CaseAction, { from: CaseStatus[]; to: CaseStatus; roles: Role[]; needs?: 'department' | 'note' }> = {
  dispatch: { from: ['filed'], to: 'dispatched', roles: ['admin', 'operator'], needs: 'department' },
  handle: { from: ['dispatched'], to: 'handled', roles: ['admin', 'operator'], needs: 'note' },
  verify: { from: ['handled'], to: 'verified', roles: ['admin', 'operator', 'reviewer'] },
  close: { from: ['verified'], to: 'closed', roles: ['admin', 'operator'] },
  rework: { from: ['handled', 'verified'], to: 'dispatched', roles: ['admin', 'operator', 'reviewer'], needs: 'note' },
  void: { from: ['filed', 'dispatched', 'handled', 'verified'], to: 'void', roles: ['admin', 'operator'], needs: 'note' },
};
export const CASE_ROLES: Role[] = ['admin', 'operator', 'reviewer'];

/**
 * Columns of a CaseRecord. The camera and the evidence of a case seen through a restricted camera are blanked
 * for roles that may not see that camera (the case itself stays: the center still has to handle it).
 */
function caseColumns(viewer: Pick<SessionUser, 'role'> | null): string {
  const visible = !viewer || seesRestrictedCameras(viewer.role) ? 'TRUE' : `(c.camera_id IS NULL OR cam.sharing IS DISTINCT FROM 'restricted')`;
  return `c.id, c.case_no AS "caseNo", c.source, c.source_ref AS "sourceRef", c.event_type AS "eventType",
    c.event_code AS "eventCode", et.name_zh AS "eventName", c.grid_code AS "gridCode", c.district, c.lat, c.lng,
    c.address, CASE WHEN ${visible} THEN c.camera_id END AS "cameraId", c.description,
    CASE WHEN ${visible} THEN c.evidence ELSE '[]'::jsonb END AS evidence, c.status, c.dispatched_to AS department,
    c.handle_result AS "handleResult", c.rework_count AS "reworkCount", c.due_at AS "dueAt", c.reported_at AS "reportedAt",
    c.filed_at AS "filedAt", c.dispatched_at AS "dispatchedAt", c.handled_at AS "handledAt", c.verified_at AS "verifiedAt",
    c.closed_at AS "closedAt", c.voided_at AS "voidedAt", c.void_reason AS "voidReason",
    (c.status NOT IN ('closed', 'void') AND c.due_at IS NOT NULL AND c.due_at < now()) AS overdue`;
}
const CASE_FROM = `cases c JOIN event_types et ON et.key = c.event_type LEFT JOIN cameras cam ON cam.id = c.camera_id`;

/** Files a case (立案). Call inside a transaction. Throws HttpError 400 on an unknown or disabled event type. */
export async function createCase(q: Queryable, input: NewCase): Promise<CaseRecord> {
  const at = input.at ?? new Date();
  const et = await q.query<{ code: string; time_limit_hours: string | number | null; enabled: boolean }>(
    'SELECT code, time_limit_hours, enabled FROM event_types WHERE key = $1', [input.eventType]);
  const type = et.rows[0];
  if (!type || !type.enabled) {
    throw new HttpError(400, `Unknown or disabled event type "${input.eventType}"`, { eventType: 'is not an enabled event type' });
  }
  let district = input.district ?? null;
  let gridCode = input.gridCode ?? null;
  if (input.cameraId && (!district || !gridCode)) {
    const cam = await q.query<{ district: string | null; grid_code: string | null }>('SELECT district, grid_code FROM cameras WHERE id = $1', [input.cameraId]);
    if (!cam.rows[0]) throw new HttpError(400, 'The camera of this case does not exist', { cameraId: 'is not a known camera' });
    district ??= cam.rows[0].district;
    gridCode ??= cam.rows[0].grid_code;
  }
  const limit = type.time_limit_hours === null ? null : Number(type.time_limit_hours);
  const dueAt = limit ? addWorkingHours(at, limit, input.calendar ?? WORKING_CALENDAR) : null;
  const caseNo = await nextCaseNo(q, at);
  const ins = await q.query<{ id: string }>(
    `INSERT INTO cases (case_no, source, source_ref, event_type, event_code, grid_code, district, lat, lng, address, camera_id,
                        description, evidence, status, due_at, reported_at, filed_at, filed_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'filed', $14, $15, $16, $17, $16, $16)
     RETURNING id`,
    [caseNo, input.source, input.sourceRef ?? null, input.eventType, type.code, gridCode, district, input.lat ?? null,
      input.lng ?? null, input.address ?? null, input.cameraId ?? null, input.description ?? null,
      JSON.stringify(input.evidence ?? []), dueAt, input.reportedAt ? new Date(input.reportedAt) : at, at, input.actor?.id ?? null],
  );
  const id = ins.rows[0].id;
  await q.query(
    `INSERT INTO case_history (case_id, at, actor_id, actor_name, action, from_status, to_status, note, detail)
     VALUES ($1, $2, $3, $4, 'file', NULL, 'filed', NULL, $5)`,
    [id, at, input.actor?.id ?? null, input.actor?.username ?? null, JSON.stringify({ source: input.source, sourceRef: input.sourceRef ?? null })],
  );
  const record = (await getCase(q, id, null))!;
  await enqueue(q, { kind: 'city' }, 'case.filed', cityPayload(record));
  return record;
}

/** What the city platform receives for a filed case (no personal data: 110 caller details stay here). */
export function cityPayload(c: CaseRecord): Record<string, unknown> {
  return {
    caseNo: c.caseNo, source: c.source, eventType: c.eventType, eventCode: c.eventCode, eventName: c.eventName,
    gridCode: c.gridCode, district: c.district, lat: c.lat, lng: c.lng, address: c.address, description: c.description,
    evidence: c.evidence, status: c.status, filedAt: c.filedAt, dueAt: c.dueAt, reportedAt: c.reportedAt,
  };
}

export async function getCase(q: Queryable, id: string, viewer: Pick<SessionUser, 'role'> | null): Promise<CaseRecord | null> {
  const res = await q.query<CaseRecord>(`SELECT ${caseColumns(viewer)} FROM ${CASE_FROM} WHERE c.id = $1`, [id]);
  return res.rows[0] ?? null;
}

export async function caseHistory(q: Queryable, id: string): Promise<CaseHistoryEntry[]> {
  const res = await q.query<CaseHistoryEntry>(
    `SELECT at, actor_name AS actor, action, from_status AS "fromStatus", to_status AS "toStatus", note, detail
       FROM case_history WHERE case_id = $1 ORDER BY at, id`, [id]);
  return res.rows;
}

export interface CaseFilters {
  status?: CaseStatus;
  source?: CaseSource;
  eventType?: string;
  grid?: string;
  district?: string;
  department?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

export async function listCases(q: Queryable, viewer: Pick<SessionUser, 'role'>, f: CaseFilters): Promise<{ items: CaseRecord[]; total: number }> {
  const where: string[] = ['TRUE'];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.status) add((n) => `c.status = $${n}`, f.status);
  if (f.source) add((n) => `c.source = $${n}`, f.source);
  if (f.eventType) add((n) => `c.event_type = $${n}`, f.eventType);
  if (f.grid) add((n) => `c.grid_code LIKE $${n}`, `${f.grid.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  if (f.district) add((n) => `c.district = $${n}`, f.district);
  if (f.department) add((n) => `c.dispatched_to = $${n}`, f.department);
  if (f.from) add((n) => `c.filed_at >= $${n}`, new Date(f.from));
  if (f.to) add((n) => `c.filed_at < $${n}`, new Date(f.to));
  const clause = where.join(' AND ');
  const rows = await q.query<CaseRecord>(
    `SELECT ${caseColumns(viewer)} FROM ${CASE_FROM} WHERE ${clause} ORDER BY c.filed_at DESC, c.case_no DESC LIMIT ${f.limit} OFFSET ${f.offset}`, params);
  const count = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases c WHERE ${clause}`, params);
  return { items: rows.rows, total: count.rows[0].n };
}

export interface TransitionInput {
  caseId: string;
  action: CaseAction;
  actor: Pick<SessionUser, 'id' | 'username' | 'role'>;
  department?: string | null;
  note?: string | null;
  at?: Date;
}

/**
 * Moves a case one step. Call inside a transaction: the row is locked (FOR UPDATE), so two operators acting
 * at once get one success and one 409. Returns the updated case and what to push once committed.
 */
export async function transitionCase(q: Queryable, t: TransitionInput): Promise<{ case: CaseRecord; notifications: Notification[] }> {
  const rule = CASE_ACTIONS[t.action];
  if (!rule) throw new HttpError(400, `Unknown action "${t.action}"`, { action: 'is not a case action' });
  if (!rule.roles.includes(t.actor.role)) {
    throw new HttpError(403, `Your role (${t.actor.role}) may not ${t.action} a case; ${rule.roles.join(', ')} may`);
  }
  const note = t.note?.trim() || null;
  const department = t.department?.trim() || null;
  if (rule.needs === 'department' && !department) throw new HttpError(400, `To ${t.action} a case, name the department`, { department: 'is required' });
  if (rule.needs === 'note' && !note) {
    const what = t.action === 'handle' ? 'the handling result' : 'the reason';
    throw new HttpError(400, `To ${t.action} a case, give ${what} as note`, { note: 'is required' });
  }
  const cur = await q.query<{ status: CaseStatus; source: CaseSource; camera_id: string | null }>(
    'SELECT status, source, camera_id FROM cases WHERE id = $1 FOR UPDATE', [t.caseId]);
  const row = cur.rows[0];
  if (!row) throw notFound('Case');
  if (!rule.from.includes(row.status)) {
    throw new HttpError(409, `A ${row.status} case cannot be ${t.action === 'rework' ? 'sent back for rework' : `${t.action}ed`}: allowed from ${rule.from.join(', ')}`);
  }
  const at = t.at ?? new Date();
  // $1 id, $2 time, $3 new status; then the action's own values (every parameter must appear in the SQL).
  const sets: Record<CaseAction, [string, unknown[]]> = {
    dispatch: ['dispatched_at = $2, dispatched_by = $4, dispatched_to = $5', [t.actor.id, department]],
    handle: ['handled_at = $2, handled_by = $4, handle_result = $5', [t.actor.id, note]],
    verify: ['verified_at = $2, verified_by = $4', [t.actor.id]],
    close: ['closed_at = $2, closed_by = $4', [t.actor.id]],
    void: ['voided_at = $2, voided_by = $4, void_reason = $5', [t.actor.id, note]],
    rework: ['rework_count = rework_count + 1, handled_at = NULL, verified_at = NULL, dispatched_to = coalesce($4, dispatched_to)', [department]],
  };
  const [set, extra] = sets[t.action];
  await q.query(`UPDATE cases SET status = $3, updated_at = $2, ${set} WHERE id = $1`, [t.caseId, at, rule.to, ...extra]);
  await q.query(
    `INSERT INTO case_history (case_id, at, actor_id, actor_name, action, from_status, to_status, note, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [t.caseId, at, t.actor.id, t.actor.username, t.action, row.status, rule.to, note, JSON.stringify(department ? { department } : {})],
  );
  const updated = (await getCase(q, t.caseId, null))!;
  const notifications: Notification[] = [{
    topic: 'case.updated' as const,
    payload: { id: updated.id, caseNo: updated.caseNo, status: updated.status, action: t.action },
    cameraId: updated.cameraId ?? undefined,
  }];
  if (row.source === '110') {
    const n = await syncIncidentFromCase(q, { case: updated, action: t.action, note, department, actor: t.actor, at });
    if (n) notifications.push(n);
  }
  return { case: updated, notifications };
}
