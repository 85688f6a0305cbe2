/**
 * Suppression regions (table suppression_regions, migrations/015_learning.sql): where a rule raises nothing, learnt
 * from rejections with a reason that says the place is never an event, or drawn on the rule page.
 */
import { regionFromRejection, SUPPRESSING_REASONS, type SuppressionRegion } from '../../analytics/index.js';
import type { Box } from '../../analytics/index.js';
import type { Queryable } from '../db/db.js';


export const REGION_COLUMNS = `s.id, s.rule_id AS "ruleId", s.camera_id AS "cameraId", s.box, s.reason, s.note, s.source_event_id AS "sourceEventId",
  s.expires_at AS "expiresAt", (s.expires_at IS NULL OR s.expires_at > now()) AS active, u.username AS "createdBy", s.created_at AS "createdAt",
  s.updated_at AS "updatedAt"`;

/**
 * A rejection whose reason says "never here" (permanent object, legal parking bay, licensed vendor) becomes a region
 * for that rule and camera, in the reviewer's transaction. Returns its id, or null for other reasons.
 */
export async function regionFromRejectedEvent(
  q: Queryable,
  e: { eventId: string; ruleId: string | null; cameraId: string; box: Box | null; reason: string; userId: string },
): Promise<string | null> {
  const policy = SUPPRESSING_REASONS[e.reason];
  if (!policy || !e.ruleId || !e.box) return null;
  const expires = policy.days === null ? null : new Date(Date.now() + policy.days * 86_400_000);
  const r = await q.query<{ id: string }>(
    `INSERT INTO suppression_regions (rule_id, camera_id, box, reason, source_event_id, expires_at, created_by, updated_by)
     SELECT $1, $2, $3, $4, $5, $6, $7, $7 WHERE EXISTS (SELECT 1 FROM rules WHERE id = $1) RETURNING id`,
    [e.ruleId, e.cameraId, JSON.stringify(regionFromRejection(e.box)), e.reason, e.eventId, expires, e.userId],
  );
  return r.rows[0]?.id ?? null;
}

/** Regions in force for the rules of these cameras, by rule id, as the engine takes them. */
export async function regionsInForce(q: Queryable, cameraIds: string[]): Promise<Map<string, SuppressionRegion[]>> {
  const out = new Map<string, SuppressionRegion[]>();
  if (!cameraIds.length) return out;
  const rows = (await q.query<{ rule_id: string; box: Box; expires_at: Date | null }>(
    `SELECT rule_id, box, expires_at FROM suppression_regions WHERE camera_id = ANY($1::uuid[]) AND (expires_at IS NULL OR expires_at > now())`,
    [cameraIds],
  )).rows;
  for (const r of rows) {
    const list = out.get(r.rule_id) ?? [];
    list.push({ box: r.box, until: r.expires_at ? new Date(r.expires_at).getTime() : null });
    out.set(r.rule_id, list);
  }
  return out;
}
