/**
 * The case service (案卷): one place that files cases and moves them through their lifecycle, used by the
 * review desk (AI confirm → source 'ai'), the 110 desk (accept → source '110') and manual filing.
 *
 *   filed → dispatched → handled → verified → closed      (立案 → 派遣 → 处置 → 核查 → 结案)
 *   feedback (反馈): a dispatched or handled case gets the unit's report (no status change)
 *   rework (返工): handled|verified → dispatched           (the check failed; counted in rework_count for 返工率)
 *   send_back (回退): dispatched → filed                    (the unit sends it back: not theirs; dispatch again)
 *   park (挂账): filed|dispatched → parked; resume (恢复) → the status it was parked from
 *   extend (延期申请) asks for more working hours; approve_extension / reject_extension (admin) decide
 *   void (作废): from any open status, with a reason
 *
 * Who may act (route roles: admin, operator, reviewer; the action decides): see CASE_ACTIONS. The city platform
 * moves cases through the same transitions (cases/city-inbound-routes.ts) as a trusted caller.
 *
 * Every function takes the caller's transaction (`q` from db.tx): a case, its history row and its outbox row
 * commit together. Filing writes an outbox row for the city platform ('case.filed'). The history row is also the
 * announcement of the step: followers such as the 110 desk act on it after commit (transition-feed.ts).
 */
import type { BusMessage } from '../bus.js';
import type { Queryable } from '../db/db.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { seesRestrictedCameras } from '../auth/roles.js';
import { HttpError, notFound } from '../http/errors.js';
import { enqueue } from '../outbox/outbox.js';
import { addWorkingHours, WORKING_CALENDAR, type WorkingCalendar } from './working-hours.js';
import { nextCaseNo } from './case-number.js';

import type { CaseAction, CaseActionNeed, CaseFields, CaseSource, CaseStatus } from './case-types.js';
export type { CaseAction, CaseActionNeed, CaseSource, CaseStatus };
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

export type CaseRecord = CaseFields<Date>;

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

export interface CaseActionRule {
  from: CaseStatus[];
  /** The status after the action; null: unchanged (feedback, extension requests and decisions), 'parked_from' on resume. */
  to: CaseStatus | null | 'parked_from';
  roles: Role[];
  needs: CaseActionNeed[];
  /** Only while an extension request waits (true) or only while none does (false). */
  extensionPending?: boolean;
}
const OPEN: CaseStatus[] = ['filed', 'dispatched', 'handled', 'verified'];
export const CASE_ACTIONS: Record<CaseAction, CaseActionRule> = {
  dispatch: { from: ['filed'], to: 'dispatched', roles: ['admin', 'operator'], needs: ['department'] },
  handle: { from: ['dispatched'], to: 'handled', roles: ['admin', 'operator'], needs: ['note'] },
  feedback: { from: ['dispatched', 'handled'], to: null, roles: ['admin', 'operator'], needs: ['note'] },
  verify: { from: ['handled'], to: 'verified', roles: ['admin', 'operator', 'reviewer'], needs: [] },
  close: { from: ['verified'], to: 'closed', roles: ['admin', 'operator'], needs: [] },
  rework: { from: ['handled', 'verified'], to: 'dispatched', roles: ['admin', 'operator', 'reviewer'], needs: ['note'] },
  send_back: { from: ['dispatched'], to: 'filed', roles: ['admin', 'operator'], needs: ['note'] },
  extend: { from: ['filed', 'dispatched', 'handled'], to: null, roles: ['admin', 'operator'], needs: ['hours', 'note'], extensionPending: false },
  approve_extension: { from: ['filed', 'dispatched', 'handled', 'verified', 'parked'], to: null, roles: ['admin'], needs: [], extensionPending: true },
  reject_extension: { from: ['filed', 'dispatched', 'handled', 'verified', 'parked'], to: null, roles: ['admin'], needs: ['note'], extensionPending: true },
  park: { from: ['filed', 'dispatched'], to: 'parked', roles: ['admin', 'operator'], needs: ['note'] },
  resume: { from: ['parked'], to: 'parked_from', roles: ['admin', 'operator'], needs: [] },
  void: { from: [...OPEN, 'parked'], to: 'void', roles: ['admin', 'operator'], needs: ['note'] },
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
    (c.status NOT IN ('closed', 'void', 'parked') AND c.due_at IS NOT NULL AND c.due_at < now()) AS overdue,
    CASE WHEN c.extension_hours IS NOT NULL THEN jsonb_build_object('hours', c.extension_hours::float8, 'reason', c.extension_reason,
      'requestedBy', c.extension_requested_by, 'requestedAt', c.extension_requested_at) END AS extension,
    c.extension_count AS "extensionCount", c.parked_from AS "parkedFrom"`;
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
  /** Camera's street (街道). */
  street?: string;
  /** true: open and past due; false: not overdue. */
  overdue?: boolean;
  /** Open cases due before this instant. */
  dueBefore?: string;
  from?: string;
  to?: string;
  /** 'due': soonest due first (open cases before finished ones); default newest filed first. */
  sort?: 'due' | 'filed';
  limit: number;
  offset: number;
}

export async function listCases(q: Queryable, viewer: Pick<SessionUser, 'role'>, f: CaseFilters): Promise<{ items: CaseRecord[]; total: number; counts: Record<string, number> }> {
  const where: string[] = ['TRUE'];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.source) add((n) => `c.source = $${n}`, f.source);
  if (f.eventType) add((n) => `c.event_type = $${n}`, f.eventType);
  if (f.grid) add((n) => `c.grid_code LIKE $${n}`, `${f.grid.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  if (f.district) add((n) => `c.district = $${n}`, f.district);
  if (f.street) add((n) => `cam.street = $${n}`, f.street);
  if (f.department) add((n) => `c.dispatched_to = $${n}`, f.department);
  if (f.from) add((n) => `c.filed_at >= $${n}`, new Date(f.from));
  if (f.to) add((n) => `c.filed_at < $${n}`, new Date(f.to));
  if (f.dueBefore) add((n) => `c.status NOT IN ('closed', 'void') AND c.due_at < $${n}`, new Date(f.dueBefore));
  if (f.overdue === true) where.push(`c.status NOT IN ('closed', 'void', 'parked') AND c.due_at IS NOT NULL AND c.due_at < now()`);
  if (f.overdue === false) where.push(`NOT (c.status NOT IN ('closed', 'void', 'parked') AND c.due_at IS NOT NULL AND c.due_at < now())`);
  // counts per status: every filter but the status itself (the tabs of the list)
  const countClause = where.join(' AND ');
  const countParams = [...params];
  if (f.status) add((n) => `c.status = $${n}`, f.status);
  const clause = where.join(' AND ');
  const order = f.sort === 'due'
    ? `(c.status IN ('closed', 'void')), c.due_at ASC NULLS LAST, c.filed_at DESC`
    : 'c.filed_at DESC, c.case_no DESC';
  const rows = await q.query<CaseRecord>(
    `SELECT ${caseColumns(viewer)} FROM ${CASE_FROM} WHERE ${clause} ORDER BY ${order} LIMIT ${f.limit} OFFSET ${f.offset}`, params);
  const count = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${CASE_FROM} WHERE ${clause}`, params);
  const byStatus = await q.query<{ status: string; n: number }>(
    `SELECT c.status, count(*)::int AS n FROM ${CASE_FROM} WHERE ${countClause} GROUP BY c.status`, countParams);
  const counts: Record<string, number> = { filed: 0, dispatched: 0, handled: 0, verified: 0, closed: 0, void: 0, parked: 0 };
  for (const r of byStatus.rows) counts[r.status] = r.n;
  return { items: rows.rows, total: count.rows[0].n, counts };
}

export interface TransitionInput {
  caseId: string;
  action: CaseAction;
  /** A signed-in user, or the city platform (id null, role 'city': a trusted caller, the role check does not apply). */
  actor: { id: string | null; username: string; role: Role | 'city' };
  department?: string | null;
  note?: string | null;
  /** Working hours asked for by an extension request. */
  hours?: number | null;
  at?: Date;
  calendar?: WorkingCalendar;
}

const ACTION_ZH: Record<CaseAction, string> = {
  dispatch: '派遣', handle: '处置', feedback: '反馈', verify: '核查', close: '结案', rework: '返工', send_back: '回退',
  extend: '延期申请', approve_extension: '批准延期', reject_extension: '驳回延期', park: '挂账', resume: '恢复', void: '作废',
};
const STATUS_ZH: Record<CaseStatus, string> = {
  filed: '已立案', dispatched: '已派遣', handled: '已处置', verified: '已核查', closed: '已结案', void: '已作废', parked: '已挂账',
};

/** The actions this role may take on a case in its current state (the console shows exactly these). */
export function allowedActions(c: Pick<CaseRecord, 'status' | 'extension'>, role: Role | 'city'): CaseAction[] {
  return (Object.keys(CASE_ACTIONS) as CaseAction[]).filter((a) => {
    const r = CASE_ACTIONS[a];
    if (!r.from.includes(c.status)) return false;
    if (role !== 'city' && !r.roles.includes(role)) return false;
    if (r.extensionPending !== undefined && r.extensionPending !== !!c.extension) return false;
    return true;
  });
}

/**
 * Moves a case one step. Call inside a transaction: the row is locked (FOR UPDATE), so two operators acting
 * at once get one success and one 409. Returns the updated case and what to push once committed.
 * Every transition but one made by the city platform itself is handed to the city platform ('case.updated').
 */
export async function transitionCase(q: Queryable, t: TransitionInput): Promise<{ case: CaseRecord; notifications: Notification[] }> {
  const rule = CASE_ACTIONS[t.action];
  if (!rule) throw new HttpError(400, `未知的操作 Unknown action "${t.action}"`, { action: '不是案卷操作 is not a case action' });
  const zh = ACTION_ZH[t.action];
  if (t.actor.role !== 'city' && !rule.roles.includes(t.actor.role)) {
    throw new HttpError(403, `当前角色不能${zh} Your role (${t.actor.role}) may not ${t.action} a case; ${rule.roles.join(', ')} may`);
  }
  const note = t.note?.trim() || null;
  const department = t.department?.trim() || null;
  const hours = t.hours ?? null;
  if (rule.needs.includes('department') && !department) {
    throw new HttpError(400, `${zh}需要选择处置部门 To ${t.action} a case, name the department`, { department: '必填：处置部门 is required' });
  }
  if (rule.needs.includes('hours') && !(hours !== null && hours > 0 && hours <= 10000)) {
    throw new HttpError(400, `${zh}需要填写延期的工作小时数 To ask for an extension, give the working hours (more than 0)`, { hours: '必填：大于 0 的小时数 is required, more than 0' });
  }
  if (rule.needs.includes('note') && !note) {
    const what = t.action === 'handle' ? ['处置结果', 'the handling result'] : t.action === 'feedback' ? ['反馈内容', 'the feedback'] : ['原因', 'the reason'];
    throw new HttpError(400, `${zh}需要填写${what[0]} To ${t.action} a case, give ${what[1]} as note`, { note: `必填：${what[0]} is required` });
  }
  const cur = await q.query<{ status: CaseStatus; camera_id: string | null; parked_from: CaseStatus | null; due_at: Date | null; extension_hours: string | number | null }>(
    'SELECT status, camera_id, parked_from, due_at, extension_hours FROM cases WHERE id = $1 FOR UPDATE', [t.caseId]);
  const row = cur.rows[0];
  if (!row) throw notFound('Case');
  if (!rule.from.includes(row.status)) {
    throw new HttpError(409, `${STATUS_ZH[row.status]}的案卷不能${zh} A ${row.status} case cannot take "${t.action}": allowed from ${rule.from.join(', ')}`);
  }
  if (rule.extensionPending === true && row.extension_hours === null) {
    throw new HttpError(409, `没有待审批的延期申请 There is no extension request to decide`);
  }
  if (rule.extensionPending === false && row.extension_hours !== null) {
    throw new HttpError(409, `已有延期申请待审批 An extension request is already waiting for approval`);
  }
  const at = t.at ?? new Date();
  const to: CaseStatus = rule.to === null ? row.status : rule.to === 'parked_from' ? (row.parked_from ?? 'filed') : rule.to;
  const ext = row.extension_hours === null ? null : Number(row.extension_hours);
  let newDue: Date | null = null;
  if (t.action === 'approve_extension' && ext) newDue = addWorkingHours(row.due_at ? new Date(row.due_at) : at, ext, t.calendar ?? WORKING_CALENDAR);
  // $1 id, $2 time, $3 new status; then the action's own values (every parameter must appear in the SQL).
  const sets: Record<CaseAction, [string, unknown[]]> = {
    dispatch: ['dispatched_at = $2, dispatched_by = $4, dispatched_to = $5', [t.actor.id, department]],
    handle: ['handled_at = $2, handled_by = $4, handle_result = $5', [t.actor.id, note]],
    feedback: ['handle_result = coalesce(handle_result, $4)', [note]],
    verify: ['verified_at = $2, verified_by = $4', [t.actor.id]],
    close: ['closed_at = $2, closed_by = $4', [t.actor.id]],
    void: ['voided_at = $2, voided_by = $4, void_reason = $5', [t.actor.id, note]],
    rework: ['rework_count = rework_count + 1, handled_at = NULL, verified_at = NULL, dispatched_to = coalesce($4, dispatched_to)', [department]],
    send_back: ['dispatched_at = NULL, dispatched_to = NULL, dispatched_by = NULL', []],
    extend: ['extension_hours = $4, extension_reason = $5, extension_requested_by = $6, extension_requested_at = $2', [hours, note, t.actor.username]],
    approve_extension: ['due_at = $4, extension_count = extension_count + 1, extension_hours = NULL, extension_reason = NULL, extension_requested_by = NULL, extension_requested_at = NULL', [newDue]],
    reject_extension: ['extension_hours = NULL, extension_reason = NULL, extension_requested_by = NULL, extension_requested_at = NULL', []],
    park: ['parked_from = $4, parked_at = $2', [row.status]],
    resume: ['parked_from = NULL, parked_at = NULL', []],
  };
  const [set, extra] = sets[t.action];
  await q.query(`UPDATE cases SET status = $3, updated_at = $2, ${set} WHERE id = $1`, [t.caseId, at, to, ...extra]);
  const detail: Record<string, unknown> = {};
  if (department) detail.department = department;
  if (t.action === 'extend') detail.hours = hours;
  if (t.action === 'approve_extension') { detail.hours = ext; detail.dueAt = newDue; }
  if (t.actor.role === 'city') detail.by = 'city';
  await q.query(
    `INSERT INTO case_history (case_id, at, actor_id, actor_name, action, from_status, to_status, note, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [t.caseId, at, t.actor.id, t.actor.username, t.action, row.status, to, note, JSON.stringify(detail)],
  );
  const updated = (await getCase(q, t.caseId, null))!;
  if (t.actor.role !== 'city') {
    await enqueue(q, { kind: 'city' }, 'case.updated', {
      caseNo: updated.caseNo, action: t.action, fromStatus: row.status, status: updated.status, note, department: updated.department,
      dueAt: updated.dueAt, at,
    });
  }
  const notifications: Notification[] = [{
    topic: 'case.updated' as const,
    payload: { id: updated.id, caseNo: updated.caseNo, status: updated.status, action: t.action },
    cameraId: updated.cameraId ?? undefined,
  }];
  return { case: updated, notifications };
}
