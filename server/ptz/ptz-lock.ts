/**
 * The PTZ control lock (table ptz_locks): one user steers a camera at a time, as in every VMS client. Each command
 * renews the holder's lock for HOLD_S; another user's command is refused (409, naming the holder) until it lapses,
 * unless that user ranks higher: the police outrank the center on cameras that are theirs.
 */
import type { Queryable } from '../db/db.js';
import type { Role, SessionUser } from '../auth/roles.js';

export const PTZ_HOLD_S = 30;

/** Who may take the controls from whom (higher wins; equal waits for the lock to lapse). */
export const PTZ_PRIORITY: Partial<Record<Role, number>> = { police110: 3, admin: 2, operator: 1 };

export interface PtzController {
  userId: string;
  username: string;
  role: string;
  until: string;
}

export type LockResult =
  | { ok: true; fresh: boolean; until: string }
  | { ok: false; holder: PtzController };

/** Takes or renews the lock in one statement (two API nodes racing for it cannot both win). */
export async function acquirePtzLock(q: Queryable, cameraId: string, user: Pick<SessionUser, 'id' | 'username' | 'role'>, holdS = PTZ_HOLD_S, retry = true): Promise<LockResult> {
  const priority = PTZ_PRIORITY[user.role] ?? 0;
  const won = await q.query<{ fresh: boolean; until: Date }>(
    `INSERT INTO ptz_locks (camera_id, user_id, username, role, priority, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
     ON CONFLICT (camera_id) DO UPDATE
       SET user_id = EXCLUDED.user_id, username = EXCLUDED.username, role = EXCLUDED.role, priority = EXCLUDED.priority,
           acquired_at = CASE WHEN ptz_locks.user_id = EXCLUDED.user_id AND ptz_locks.expires_at > now() THEN ptz_locks.acquired_at ELSE now() END,
           expires_at = EXCLUDED.expires_at
       WHERE ptz_locks.expires_at <= now() OR ptz_locks.user_id = EXCLUDED.user_id OR ptz_locks.priority < EXCLUDED.priority
     RETURNING acquired_at = now() AS fresh, expires_at AS until`,
    [cameraId, user.id, user.username, user.role, priority, holdS]);
  const row = won.rows[0];
  if (row) return { ok: true, fresh: row.fresh, until: new Date(row.until).toISOString() };
  const holder = await currentController(q, cameraId);
  // lapsed between the two statements: try once more
  if (!holder && retry) return acquirePtzLock(q, cameraId, user, holdS, false);
  return { ok: false, holder: holder ?? { userId: '', username: '?', role: '?', until: new Date().toISOString() } };
}

export async function currentController(q: Queryable, cameraId: string): Promise<PtzController | null> {
  const r = await q.query<{ user_id: string; username: string; role: string; expires_at: Date }>(
    'SELECT user_id, username, role, expires_at FROM ptz_locks WHERE camera_id = $1 AND expires_at > now()', [cameraId]);
  const h = r.rows[0];
  return h ? { userId: h.user_id, username: h.username, role: h.role, until: new Date(h.expires_at).toISOString() } : null;
}

/** The holder hands the controls back (closing the panel); true when it held them. */
export async function releasePtzLock(q: Queryable, cameraId: string, userId: string): Promise<boolean> {
  const r = await q.query('DELETE FROM ptz_locks WHERE camera_id = $1 AND user_id = $2', [cameraId, userId]);
  return r.rowCount > 0;
}
