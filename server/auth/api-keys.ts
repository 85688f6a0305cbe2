import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/db.js';

/** Scopes an API key can carry: '110' = the 110 system's incident intake and status queries; 'city' = the city platform's case status updates (POST /api/city/case-updates, HMAC-signed). */
export const API_KEY_SCOPES = ['110', 'city'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: string[];
}

/** Keys are 32 random bytes: a plain SHA-256 is enough to store them (no password stretching needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = `se_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}

/** The key's principal if it exists and is not revoked; null otherwise. Touches last_used_at (at most once a minute). */
export async function verifyApiKey(q: Queryable, key: string): Promise<ApiKeyPrincipal | null> {
  if (!/^se_[A-Za-z0-9_-]{20,100}$/.test(key)) return null;
  const res = await q.query<ApiKeyPrincipal & { stale: boolean }>(
    `SELECT id, name, scopes, (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
       FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [hashApiKey(key)]);
  const row = res.rows[0];
  if (!row) return null;
  if (row.stale) await q.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
  return { id: row.id, name: row.name, scopes: row.scopes };
}
