import type { Queryable } from './db/db.js';
import type { SessionUser } from './auth/roles.js';

export interface AuditEntry {
  user?: Pick<SessionUser, 'id' | 'username'> | null;
  /** Dotted verb, e.g. auth.login, camera.create, camera.import, live.view. */
  action: string;
  targetType?: string;
  targetId?: string;
  detail?: Record<string, unknown>;
  ip?: string;
}

/** Appends to the audit trail; callers pass their transaction so the record and the change commit together. */
export async function audit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (user_id, username, action, target_type, target_id, detail, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.user?.id ?? null, e.user?.username ?? null, e.action, e.targetType ?? null, e.targetId ?? null, JSON.stringify(e.detail ?? {}), e.ip ?? null],
  );
}
