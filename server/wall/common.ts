import type { Queryable } from '../db/db.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import type { Role, SessionUser } from '../auth/roles.js';
import { HttpError } from '../http/errors.js';

/**
 * Who uses the video wall. police110 may use it too: the 110 desk watches the cameras of an incident, and
 * they see restricted cameras anyway. Reviewers and technicians have their own pages.
 */
export const WALL_ROLES: Role[] = ['operator', 'admin', 'police110'];

import { LAYOUTS, type Layout } from './wall-types.js';

export { LAYOUTS, type Layout };
export const TILES_OF: Record<Layout, number> = { '1': 1, '4': 4, '9': 9, '16': 16, '25': 25, '36': 36, '64': 64, '1+5': 6, '1+7': 8, '1+12': 13, '2+8': 10 };

/** The subset of these camera ids that exist and that this user may see (the inventory's visibility rule). */
export async function visibleCameraIds(q: Queryable, user: Pick<SessionUser, 'role'>, ids: readonly (string | null)[]): Promise<Set<string>> {
  const wanted = [...new Set(ids.filter((x): x is string => typeof x === 'string'))];
  if (!wanted.length) return new Set();
  const res = await q.query<{ id: string }>(`SELECT c.id FROM cameras c WHERE c.id = ANY($1::uuid[]) AND ${visibilityCondition(user)}`, [wanted]);
  return new Set(res.rows.map((r) => r.id));
}

/** 400 naming the first id the user may not use (a restricted camera reads exactly like a missing one). */
export async function assertCamerasVisible(q: Queryable, user: Pick<SessionUser, 'role'>, ids: readonly (string | null)[], field: string): Promise<void> {
  const ok = await visibleCameraIds(q, user, ids);
  const bad = ids.findIndex((id) => id !== null && !ok.has(id));
  if (bad >= 0) throw new HttpError(400, `${field}[${bad}]: camera not found`, { [`${field}.${bad}`]: 'camera not found' });
}

/** Unique (owner, name) violations as a 409 the form can show next to the name. */
export function conflictOnDuplicateName(err: unknown, what: string): never {
  if ((err as { code?: string }).code === '23505') throw new HttpError(409, `You already have a ${what} with this name`, { name: 'already used' });
  throw err;
}

export const uuid = { type: 'string', format: 'uuid' } as const;
export const nameSchema = { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } as const;
export const scopeQuery = {
  type: 'object',
  properties: { scope: { type: 'string', enum: ['all', 'mine', 'shared'], default: 'all' } },
  additionalProperties: false,
} as const;

/** Owner or admin may change a shared item; others see it read-only. Returns the SQL clause for "visible to me". */
export function visibleToMe(alias: string, userParam: number): string {
  return `(${alias}.owner_id = $${userParam} OR ${alias}.shared)`;
}
export function scopeClause(alias: string, scope: 'all' | 'mine' | 'shared', userParam: number): string {
  if (scope === 'mine') return `${alias}.owner_id = $${userParam}`;
  if (scope === 'shared') return `${alias}.shared`;
  return visibleToMe(alias, userParam);
}
