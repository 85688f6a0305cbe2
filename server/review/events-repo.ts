/**
 * The `events` table (AI candidate events), in one place: the engine's writes (a candidate opened, updated, closed,
 * its late evidence), the review desk's reads and decisions, the evidence paths and the counts precision is made of.
 * Every read that a user asks for applies the camera visibility of that user.
 */
import type { Db, Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import type { CandidateEvent } from '../../analytics/index.js';
import type { PrecisionWindow } from './precision.js';

export interface Box { x1: number; y1: number; x2: number; y2: number }

export interface EventFilters {
  status?: string; cameraId?: string; eventType?: string; ruleId?: string; from?: string; to?: string; limit: number; offset: number; order?: 'asc' | 'desc';
}

export const EVENT_COLUMNS = `e.id, e.rule_id AS "ruleId", e.camera_id AS "cameraId", cam.name AS "cameraName", e.event_type AS "eventType",
  e.event_code AS "eventCode", et.name_zh AS "eventName", e.status, e.score, e.label, e.object_count AS "objectCount", e.box,
  e.first_seen AS "firstSeen", e.last_seen AS "lastSeen", e.closed_at AS "closedAt", e.grid_code AS "gridCode", e.lat, e.lng, e.address,
  json_build_object('annotated', e.evidence_jpeg IS NOT NULL, 'clean', e.evidence_frame IS NOT NULL, 'clip', e.evidence_clip IS NOT NULL,
    'purgedAt', e.evidence_purged_at) AS evidence,
  (e.track->>'dwellSeconds')::float8 AS "dwellSeconds", u.username AS "reviewedBy", e.reviewed_at AS "reviewedAt", e.reject_reason AS "rejectReason",
  e.reject_note AS "rejectNote", e.case_id AS "caseId", c.case_no AS "caseNo", e.created_at AS "createdAt"`;
export const EVENT_FROM = `events e JOIN cameras cam ON cam.id = e.camera_id LEFT JOIN event_types et ON et.key = e.event_type
  LEFT JOIN users u ON u.id = e.reviewed_by LEFT JOIN cases c ON c.id = e.case_id`;

/** Candidate events a user may see, filtered; pending ones oldest first (a queue), others newest first unless ordered. */
export async function listEvents(db: Queryable, user: Pick<SessionUser, 'role'>, f: EventFilters): Promise<{ items: unknown[]; total: number }> {
  const where = [visibilityCondition(user, 'cam')];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.status) add((n) => `e.status = $${n}`, f.status);
  if (f.cameraId) add((n) => `e.camera_id = $${n}`, f.cameraId);
  if (f.eventType) add((n) => `e.event_type = $${n}`, f.eventType);
  if (f.ruleId) add((n) => `e.rule_id = $${n}`, f.ruleId);
  if (f.from) add((n) => `e.first_seen >= $${n}`, f.from);
  if (f.to) add((n) => `e.first_seen < $${n}`, f.to);
  const order = f.order ?? (f.status === 'pending' ? 'asc' : 'desc');
  const total = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM events e JOIN cameras cam ON cam.id = e.camera_id WHERE ${where.join(' AND ')}`, params)).rows[0].n);
  const items = (await db.query(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} WHERE ${where.join(' AND ')}
    ORDER BY e.first_seen ${order === 'asc' ? 'ASC' : 'DESC'}, e.id LIMIT ${f.limit} OFFSET ${f.offset}`, params)).rows;
  return { items, total };
}

export async function getEvent(db: Queryable, user: Pick<SessionUser, 'role'>, id: string): Promise<Record<string, unknown> | null> {
  return (await db.query<Record<string, unknown>>(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id])).rows[0] ?? null;
}

/** Locks a visible event for a decision (inside a transaction); null if the user may not see it. */
export async function lockForConfirm(q: Queryable, user: Pick<SessionUser, 'role'>, id: string) {
  return (await q.query<{ status: string; event_type: string; camera_id: string; grid_code: string | null; lat: number | null; lng: number | null; address: string | null; first_seen: Date; sharing: string }>(
    `SELECT e.status, e.event_type, e.camera_id, e.grid_code, e.lat, e.lng, e.address, e.first_seen, cam.sharing
       FROM events e JOIN cameras cam ON cam.id = e.camera_id WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')} FOR UPDATE OF e`, [id])).rows[0] ?? null;
}

export async function markConfirmed(q: Queryable, id: string, o: { caseId: string; reviewerId: string; correctedEventType?: string }): Promise<void> {
  await q.query(`UPDATE events SET status = 'confirmed', case_id = $2, reviewed_by = $3, reviewed_at = now(), updated_at = now(),
      track = track || $4::jsonb WHERE id = $1`, [id, o.caseId, o.reviewerId, JSON.stringify(o.correctedEventType ? { correctedEventType: o.correctedEventType } : {})]);
}

export async function lockForReject(q: Queryable, user: Pick<SessionUser, 'role'>, id: string) {
  return (await q.query<{ status: string; rule_id: string | null; camera_id: string; box: Box | null }>(
    `SELECT e.status, e.rule_id, e.camera_id, e.box FROM events e JOIN cameras cam ON cam.id = e.camera_id
      WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')} FOR UPDATE OF e`, [id])).rows[0] ?? null;
}

/** Is `reason` an enabled reject reason (reject-reasons.ts) of this event's type? */
export async function rejectReasonAllowed(q: Queryable, eventId: string, reason: string): Promise<boolean> {
  const r = await q.query(`SELECT 1 FROM events e JOIN reject_reasons r ON r.event_type = e.event_type AND r.key = $2 AND r.enabled WHERE e.id = $1`, [eventId, reason]);
  return (r.rowCount ?? 0) > 0;
}

export async function markRejected(q: Queryable, id: string, o: { reason: string; note: string | null; reviewerId: string }): Promise<void> {
  await q.query(`UPDATE events SET status = 'rejected', reject_reason = $2, reject_note = $3, reviewed_by = $4, reviewed_at = now(), updated_at = now() WHERE id = $1`,
    [id, o.reason, o.note, o.reviewerId]);
}

/** Where one evidence file of a visible event is (relative to the evidence directory), and whether retention removed it. */
export async function evidenceOf(db: Queryable, user: Pick<SessionUser, 'role'>, id: string, kind: 'annotated' | 'clean' | 'clip') {
  const col = kind === 'annotated' ? 'evidence_jpeg' : kind === 'clean' ? 'evidence_frame' : 'evidence_clip';
  return (await db.query<{ camera_id: string; path: string | null; purged_at: Date | null }>(
    `SELECT e.camera_id, e.${col} AS path, e.evidence_purged_at AS purged_at FROM events e JOIN cameras cam ON cam.id = e.camera_id
      WHERE e.id = $1 AND ${visibilityCondition(user, 'cam')}`, [id])).rows[0] ?? null;
}

/** Review counts of one rule's events as SQL columns (confirmed, rejected, pending), for the rule list. */
export const RULE_REVIEW_COUNTS = `(SELECT count(*)::int FROM events e WHERE e.rule_id = r.id AND e.status = 'confirmed') AS confirmed,
        (SELECT count(*)::int FROM events e WHERE e.rule_id = r.id AND e.status = 'rejected') AS rejected,
        (SELECT count(*)::int FROM events e WHERE e.rule_id = r.id AND e.status = 'pending') AS pending`;

export interface ReviewCounts { confirmed: number; rejected: number; pending: number; total: number }

/** The SQL condition putting an event in a precision window (its bounds appended to params). */
function inWindow(w: PrecisionWindow, params: unknown[]): string[] {
  const col = w.by === 'reviewed_at' ? 'e.reviewed_at' : 'e.first_seen';
  const where: string[] = [];
  if (w.from) { params.push(w.from); where.push(`${col} >= $${params.length}`); }
  if (w.to) { params.push(w.to); where.push(`${col} < $${params.length}`); }
  return where;
}

/** Review counts per rule, camera and event type, and rejection reasons, of the events in the window. */
export async function reviewCounts(db: Queryable, user: Pick<SessionUser, 'role'>, window: PrecisionWindow) {
  const params: unknown[] = [];
  const where = [visibilityCondition(user, 'cam'), ...inWindow(window, params)];
  const counts = `count(*) FILTER (WHERE e.status = 'confirmed')::int AS confirmed, count(*) FILTER (WHERE e.status = 'rejected')::int AS rejected,
    count(*) FILTER (WHERE e.status = 'pending')::int AS pending, count(*)::int AS total`;
  const from = `events e JOIN cameras cam ON cam.id = e.camera_id WHERE ${where.join(' AND ')}`;
  const rules = (await db.query<ReviewCounts & { ruleId: string | null; ruleName: string | null; cameraId: string; cameraName: string; eventType: string }>(
    `SELECT e.rule_id AS "ruleId", r.name AS "ruleName", e.camera_id AS "cameraId", cam.name AS "cameraName",
        min(e.event_type) AS "eventType", ${counts} FROM ${from.replace('WHERE', 'LEFT JOIN rules r ON r.id = e.rule_id WHERE')}
        GROUP BY e.rule_id, r.name, e.camera_id, cam.name ORDER BY cam.name`, params)).rows;
  const cameras = (await db.query<ReviewCounts & { cameraId: string; cameraName: string }>(`SELECT e.camera_id AS "cameraId", cam.name AS "cameraName", ${counts} FROM ${from}
        GROUP BY e.camera_id, cam.name ORDER BY cam.name`, params)).rows;
  const types = (await db.query<ReviewCounts & { eventType: string }>(`SELECT e.event_type AS "eventType", ${counts} FROM ${from} GROUP BY e.event_type ORDER BY total DESC`, params)).rows;
  const reasons = (await db.query<{ reason: string; n: number }>(`SELECT e.reject_reason AS reason, count(*)::int AS n FROM ${from} AND e.status = 'rejected' GROUP BY e.reject_reason ORDER BY n DESC`, params)).rows;
  return { rules, cameras, types, reasons };
}

/**
 * For the KPI report (kpi/kpi.ts): per group `g`, the reviewed events in the window (confirmed, reviewed), of the
 * cameras `visibility` lets the viewer see (cam is the event's camera).
 */
export async function reviewedPerGroup(q: Queryable, group: string, visibility: string, window: PrecisionWindow) {
  const params: unknown[] = [];
  const where = [`e.status IN ('confirmed', 'rejected')`, visibility, ...inWindow(window, params)];
  return (await q.query<{ g: string | null; confirmed: string; reviewed: string }>(
    `SELECT ${group} AS g, count(*) FILTER (WHERE e.status = 'confirmed') AS confirmed, count(*) AS reviewed
       FROM events e JOIN cameras cam ON cam.id = e.camera_id WHERE ${where.join(' AND ')} GROUP BY 1`, params)).rows;
}

/**
 * For the KPI report's reported/filed counts: SQL of the AI reports raised in [$1, $2) that a person reviewed, one row
 * per event (its group, whether it became a case), to UNION with the other sources.
 */
export function reviewedReportsSql(group: string, visibility: string): string {
  return `SELECT ${group}, e.status = 'confirmed'
        FROM events e JOIN cameras cam ON cam.id = e.camera_id
       WHERE e.created_at >= $1 AND e.created_at < $2 AND e.status IN ('confirmed', 'rejected') AND ${visibility}`;
}

// ---- reads for other pages --------------------------------------------------------------------------------------

/** The AI event a case was filed from (the case page's source panel). */
export async function sourceEventOfCase(q: Queryable, caseId: string) {
  return (await q.query(
    `SELECT e.id, e.status, e.score, e.label, e.first_seen AS "firstSeen", e.last_seen AS "lastSeen", e.object_count AS "objectCount"
       FROM events e WHERE e.case_id = $1 ORDER BY e.first_seen LIMIT 1`, [caseId])).rows[0] ?? null;
}

/** A camera's candidates first seen in [from, to] as timeline markers (playback), oldest first, at most `limit`. */
export async function candidateMarkers(q: Queryable, cameraId: string, from: Date, to: Date, limit: number) {
  return (await q.query<{ kind: string; at: Date; id: string; label: string | null }>(
    `SELECT 'candidate' AS kind, first_seen AS at, id::text AS id, coalesce(label, event_type) AS label FROM events
      WHERE camera_id = $1 AND first_seen BETWEEN $2 AND $3 ORDER BY first_seen LIMIT ${limit}`, [cameraId, from, to])).rows;
}

/** A rule's reviewed candidates, newest first (at most 5000): what the learning suggestions replay. */
export async function reviewedOfRule(q: Queryable, ruleId: string) {
  return (await q.query<{ id: string; status: 'confirmed' | 'rejected'; reject_reason: string | null; box: Box | null; score: number; object_count: number; stayed: number }>(
    `SELECT id, status, reject_reason, box, score, object_count, extract(epoch FROM (last_seen - first_seen))::float8 AS stayed
       FROM events WHERE rule_id = $1 AND status IN ('confirmed', 'rejected') ORDER BY first_seen DESC LIMIT 5000`, [ruleId])).rows;
}

export interface DatasetFilters {
  status?: 'confirmed' | 'rejected' | 'reviewed'; eventType?: string; cameraId?: string; from?: string; to?: string; limit: number;
}

/** Reviewed candidates a user may see, for a training-data export (oldest first). */
export async function reviewedForDataset(q: Queryable, user: Pick<SessionUser, 'role'>, f: DatasetFilters) {
  const where = [visibilityCondition(user, 'cam'), f.status === 'confirmed' ? `e.status = 'confirmed'` : f.status === 'rejected' ? `e.status = 'rejected'` : `e.status IN ('confirmed', 'rejected')`];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.eventType) add((n) => `e.event_type = $${n}`, f.eventType);
  if (f.cameraId) add((n) => `e.camera_id = $${n}`, f.cameraId);
  if (f.from) add((n) => `e.first_seen >= $${n}`, f.from);
  if (f.to) add((n) => `e.first_seen < $${n}`, f.to);
  return (await q.query<{ id: string; status: 'confirmed' | 'rejected'; eventType: string; label: string | null; score: number; box: Box | null; cameraId: string;
    cameraName: string; firstSeen: Date; rejectReason: string | null; rejectNote: string | null; frame: string | null }>(
    `SELECT e.id, e.status, e.event_type AS "eventType", e.label, e.score, e.box, e.camera_id AS "cameraId",
        cam.name AS "cameraName", e.first_seen AS "firstSeen", e.reject_reason AS "rejectReason", e.reject_note AS "rejectNote", e.evidence_frame AS frame
      FROM events e JOIN cameras cam ON cam.id = e.camera_id WHERE ${where.join(' AND ')} ORDER BY e.first_seen, e.id LIMIT ${f.limit}`, params)).rows;
}

// ---- evidence retention (analytics/evidence-retention.ts) ----------------------------------------------------------

/**
 * Claims (FOR UPDATE SKIP LOCKED, inside the caller's transaction) up to `batch` rejected or expired events whose
 * evidence is older than `days` and not yet removed, oldest first.
 */
export async function claimPurgeableEvidence(q: Queryable, days: number, batch: number) {
  return (await q.query<{ id: string; evidence_jpeg: string | null; evidence_frame: string | null; evidence_clip: string | null }>(
    `SELECT id, evidence_jpeg, evidence_frame, evidence_clip FROM events
      WHERE status IN ('rejected', 'expired') AND evidence_purged_at IS NULL
        AND coalesce(reviewed_at, closed_at, last_seen) < now() - make_interval(days => $1::int)
        AND (evidence_jpeg IS NOT NULL OR evidence_frame IS NOT NULL OR evidence_clip IS NOT NULL)
      ORDER BY coalesce(reviewed_at, closed_at, last_seen)
      LIMIT $2 FOR UPDATE SKIP LOCKED`, [days, batch])).rows;
}

/** The evidence of these events is gone: paths cleared, evidence_purged_at set (the rows stay for precision). */
export async function markEvidencePurged(q: Queryable, ids: string[]): Promise<void> {
  await q.query(
    `UPDATE events SET evidence_jpeg = NULL, evidence_frame = NULL, evidence_clip = NULL, evidence_purged_at = now()
      WHERE id = ANY($1::uuid[])`, [ids]);
}

// ---- the engine's writes (analytics/service.ts) ------------------------------------------------------------------

function clamp01(n: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(n) ? n : 0));
}

/** A new candidate (status pending); a rule deleted meanwhile leaves rule_id null. Idempotent by id. */
export async function insertCandidate(db: Db, e: CandidateEvent): Promise<void> {
  await db.query(
    `INSERT INTO events (id, rule_id, camera_id, event_type, event_code, status, score, label, object_count, box, first_seen, last_seen,
                         grid_code, lat, lng, address, evidence_jpeg, evidence_frame, evidence_clip, track)
     SELECT $1, r.id, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19
       FROM (SELECT 1) one LEFT JOIN rules r ON r.id = $2
     ON CONFLICT (id) DO NOTHING`,
    [e.id, e.ruleId, e.cameraId, e.eventType, e.eventCode ?? '', clamp01(e.score), e.label, Math.max(1, e.count), JSON.stringify(e.box),
      new Date(e.firstSeen), new Date(Math.max(e.lastSeen, e.firstSeen)), e.gridCode, e.lat, e.lng, e.address,
      e.evidence.annotatedJpeg ?? null, e.evidence.cleanJpeg ?? null, e.evidence.clip ?? null,
      JSON.stringify({ trackIds: e.trackIds, detector: e.detector, model: e.model, dwellSeconds: e.dwellSeconds, openedAt: e.openedAt })],
  );
}

export async function updateCandidate(db: Db, e: CandidateEvent): Promise<void> {
  await db.query(
    `UPDATE events SET last_seen = greatest(first_seen, $2), score = greatest(score, $3), object_count = greatest(1, $4), box = $5,
            track = track || $6::jsonb, updated_at = now() WHERE id = $1`,
    [e.id, new Date(e.lastSeen), clamp01(e.score), e.count, JSON.stringify(e.box), JSON.stringify({ trackIds: e.trackIds, dwellSeconds: e.dwellSeconds })],
  );
}

export async function closeCandidate(db: Db, e: CandidateEvent): Promise<void> {
  await db.query(
    `UPDATE events SET last_seen = greatest(first_seen, $2), closed_at = $3, track = track || $4::jsonb, updated_at = now() WHERE id = $1`,
    [e.id, new Date(e.lastSeen), new Date(e.closedAt ?? e.lastSeen), JSON.stringify({ dwellSeconds: e.dwellSeconds })],
  );
}

/** Evidence written after the candidate opened (the clip needs the seconds after the stay). */
export async function addEvidence(db: Db, id: string, evidence: { annotatedJpeg?: string; cleanJpeg?: string; clip?: string }): Promise<void> {
  await db.query(
    `UPDATE events SET evidence_clip = coalesce($2, evidence_clip), evidence_jpeg = coalesce(evidence_jpeg, $3),
            evidence_frame = coalesce(evidence_frame, $4), updated_at = now() WHERE id = $1`,
    [id, evidence.clip ?? null, evidence.annotatedJpeg ?? null, evidence.cleanJpeg ?? null],
  );
}
