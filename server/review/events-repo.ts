/**
 * The `events` table (AI candidate events), in one place: the engine's writes (a candidate opened, updated, closed,
 * its late evidence), the review desk's reads and decisions, the evidence paths and the counts precision is made of.
 * Every read that a user asks for applies the camera visibility of that user.
 */
import type { Db, Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import type { CandidateEvent } from '../../analytics/index.js';

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

/** Review counts per rule, camera and event type, and rejection reasons, of the events first seen in [from, to). */
export async function reviewCounts(db: Queryable, user: Pick<SessionUser, 'role'>, window: { from?: string; to?: string }) {
  const where = [visibilityCondition(user, 'cam')];
  const params: unknown[] = [];
  if (window.from) { params.push(window.from); where.push(`e.first_seen >= $${params.length}`); }
  if (window.to) { params.push(window.to); where.push(`e.first_seen < $${params.length}`); }
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
