import type { Db } from './db/db.js';
import { hashPassword, randomPassword } from './auth/passwords.js';
import { audit } from './audit.js';

/**
 * First start: with no users at all, create `admin` with STREETEYE_ADMIN_PASSWORD or a random
 * password that is shown once on the console (never written to the JSON log).
 */
export async function ensureAdmin(db: Db, configured?: string): Promise<{ created: boolean; password?: string }> {
  const any = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  if (any.rows[0].n > 0) return { created: false };
  const password = configured ?? randomPassword();
  await db.tx(async (q) => {
    await q.query(`INSERT INTO users (username, password_hash, role, display_name) VALUES ('admin', $1, 'admin', 'Administrator')`, [await hashPassword(password)]);
    await audit(q, { action: 'user.bootstrap', targetType: 'user', detail: { username: 'admin' } });
  });
  return { created: true, password: configured ? undefined : password };
}
