import type { Queryable } from '../db/db.js';

export type CameraAccessKind = 'live' | 'snapshot' | 'evidence' | 'playback' | 'export';

export interface CameraAccess {
  user: { id: string; username: string } | null;
  cameraId: string;
  kind: CameraAccessKind;
  startedAt: Date;
  /** Known at once for a snapshot or an evidence download; for live, set later with endCameraAccess. */
  endedAt?: Date | null;
  ip?: string | null;
  /** playback and export: the recorded time range that was played or exported */
  rangeFrom?: Date | null;
  rangeTo?: Date | null;
}

/**
 * Records that someone looked at a camera (who, which camera, live/snapshot/evidence, from when to when) in
 * camera_view_log, which the police read through GET /api/cameras/:id/viewers. Returns the row id so that a
 * live view can be closed with endCameraAccess when the viewer stops. Cheap (one INSERT): call it on every access.
 */
export async function recordCameraAccess(q: Queryable, a: CameraAccess): Promise<number> {
  const res = await q.query<{ id: number }>(
    `INSERT INTO camera_view_log (user_id, username, camera_id, kind, started_at, ended_at, ip, range_from, range_to)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [a.user?.id ?? null, a.user?.username ?? null, a.cameraId, a.kind, a.startedAt, a.endedAt ?? null, a.ip ?? null, a.rangeFrom ?? null, a.rangeTo ?? null],
  );
  return res.rows[0].id;
}

/** Closes a live view (idempotent: the first end time wins; never before the start). */
export async function endCameraAccess(q: Queryable, id: number, endedAt: Date = new Date()): Promise<void> {
  await q.query('UPDATE camera_view_log SET ended_at = greatest(started_at, $2) WHERE id = $1 AND ended_at IS NULL', [id, endedAt]);
}

/**
 * Closes every open live view of this user on this camera (for ingest: call it when the user's viewer lease
 * on the stream expires — the session manager's viewer timeout — since HLS requests carry no "disconnect").
 */
export async function endLiveViews(q: Queryable, v: { cameraId: string; userId: string; endedAt?: Date }): Promise<number> {
  const res = await q.query(
    `UPDATE camera_view_log SET ended_at = greatest(started_at, $3)
      WHERE camera_id = $1 AND user_id = $2 AND kind = 'live' AND ended_at IS NULL`,
    [v.cameraId, v.userId, v.endedAt ?? new Date()]);
  return res.rowCount;
}
