import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import type { SessionUser } from './roles.js';

export const SESSION_COOKIE = 'streeteye_session';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(
  q: Queryable,
  userId: string,
  ttlHours: number,
  meta: { ip?: string; userAgent?: string },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlHours * 3600_000);
  await q.query(
    `INSERT INTO sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)`,
    [hashToken(token), userId, expiresAt, meta.ip ?? null, meta.userAgent?.slice(0, 300) ?? null],
  );
  return { token, expiresAt };
}

/** The session's user, or null when the token is unknown, expired, revoked or the user disabled. */
export async function resolveSession(q: Queryable, token: string): Promise<SessionUser | null> {
  const hash = hashToken(token);
  const res = await q.query<SessionUser & { stale: boolean }>(
    `SELECT u.id, u.username, u.role, s.last_seen_at < now() - interval '1 minute' AS stale
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled`,
    [hash],
  );
  const row = res.rows[0];
  if (!row) return null;
  // Every API request resolves the session (a wall polls snapshots every few seconds per tile): write
  // last_seen_at at most once a minute instead of once per request.
  if (row.stale) await q.query('UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1', [hash]);
  return { id: row.id, username: row.username, role: row.role };
}

export async function revokeSession(q: Queryable, token: string): Promise<void> {
  await q.query(`UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`, [hashToken(token)]);
}

export async function revokeUserSessions(q: Queryable, userId: string): Promise<void> {
  await q.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
}
