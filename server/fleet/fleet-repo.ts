/**
 * Fleet-health queries: online rate overall and by district / owner, status counts, flapping cameras, clock
 * drift, per-camera status history. Every query is restricted to the cameras the viewer may see.
 */
import type { Queryable } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { DOWN_STATUSES, ONLINE_STATUSES, onlineCondition } from './status.js';

const sqlList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
const ONLINE_SQL = onlineCondition('c');

export interface GroupRate {
  total: number;
  online: number;
  /** online / total, 0..1; null when total is 0 */
  onlineRate: number | null;
}

export interface FlappingCamera {
  cameraId: string;
  name: string;
  district: string | null;
  owner: string | null;
  status: string;
  transitions: number;
  lastChangeAt: string;
}

export interface DriftCamera {
  cameraId: string;
  name: string;
  clockDriftMs: number;
  checkedAt: string;
}

export interface FleetSummary extends GroupRate {
  byDistrict: Array<GroupRate & { district: string | null }>;
  byOwner: Array<GroupRate & { owner: string | null }>;
  byStatus: Record<string, number>;
  flapping: FlappingCamera[];
  clockDrift: DriftCamera[];
  definition: { online: string[]; flapTransitions: number; flapWindowMin: number; driftWarnMs: number };
  at: string;
}

export interface SummaryOptions {
  flapTransitions: number;
  flapWindowMin: number;
  driftWarnMs: number;
}

const rate = (online: number, total: number) => (total ? Math.round((online / total) * 10_000) / 10_000 : null);

export async function fleetSummary(q: Queryable, user: Pick<SessionUser, 'role'>, o: SummaryOptions): Promise<FleetSummary> {
  const vis = visibilityCondition(user);
  const group = async (col: 'district' | 'owner') => (await q.query<{ key: string | null; total: number; online: number }>(
    `SELECT c.${col} AS key, count(*)::int AS total, count(*) FILTER (WHERE ${ONLINE_SQL})::int AS online
       FROM cameras c WHERE ${vis} GROUP BY c.${col} ORDER BY c.${col} NULLS LAST`)).rows;
  const [totals, districts, owners, statuses, flapping, drift] = await Promise.all([
    q.query<{ total: number; online: number }>(`SELECT count(*)::int AS total, count(*) FILTER (WHERE ${ONLINE_SQL})::int AS online FROM cameras c WHERE ${vis}`),
    group('district'),
    group('owner'),
    q.query<{ status: string; n: number }>(`SELECT c.status, count(*)::int AS n FROM cameras c WHERE ${vis} GROUP BY c.status ORDER BY c.status`),
    flappingCameras(q, user, o.flapWindowMin, o.flapTransitions, 100),
    q.query<DriftCamera>(
      `SELECT c.id AS "cameraId", c.name, h.clock_drift_ms AS "clockDriftMs", h.checked_at AS "checkedAt"
         FROM camera_health h JOIN cameras c ON c.id = h.camera_id
        WHERE ${vis} AND h.clock_drift_ms IS NOT NULL AND abs(h.clock_drift_ms) >= $1
        ORDER BY abs(h.clock_drift_ms) DESC, c.name LIMIT 100`, [o.driftWarnMs]),
  ]);
  const { total, online } = totals.rows[0];
  return {
    total, online, onlineRate: rate(online, total),
    byDistrict: districts.map((d) => ({ district: d.key, total: d.total, online: d.online, onlineRate: rate(d.online, d.total) })),
    byOwner: owners.map((d) => ({ owner: d.key, total: d.total, online: d.online, onlineRate: rate(d.online, d.total) })),
    byStatus: Object.fromEntries(statuses.rows.map((r) => [r.status, r.n])),
    flapping,
    clockDrift: drift.rows.map((r) => ({ ...r, checkedAt: new Date(r.checkedAt).toISOString() })),
    definition: { online: [...ONLINE_STATUSES], flapTransitions: o.flapTransitions, flapWindowMin: o.flapWindowMin, driftWarnMs: o.driftWarnMs },
    at: new Date().toISOString(),
  };
}

/**
 * Cameras with at least minTransitions online↔offline changes on one stream (main, sub or probe) within the
 * window. idle / connecting rows are neither up nor down and do not break a sequence.
 */
export async function flappingCameras(q: Queryable, user: Pick<SessionUser, 'role'>, windowMin: number, minTransitions: number, limit: number): Promise<FlappingCamera[]> {
  const res = await q.query<FlappingCamera>(
    `WITH h AS (
       SELECT camera_id, stream, at, id,
              CASE WHEN status IN (${sqlList(ONLINE_STATUSES)}) THEN 1 WHEN status IN (${sqlList(DOWN_STATUSES)}) THEN 0 END AS up
         FROM camera_status_history
        WHERE at >= now() - make_interval(mins => $1::int)
     ), s AS (
       SELECT camera_id, stream, at, up, lag(up) OVER (PARTITION BY camera_id, stream ORDER BY at, id) AS prev
         FROM h WHERE up IS NOT NULL
     ), t AS (
       SELECT camera_id, stream, count(*) FILTER (WHERE prev IS NOT NULL AND up <> prev)::int AS transitions, max(at) AS last_at
         FROM s GROUP BY camera_id, stream
     )
     SELECT c.id AS "cameraId", c.name, c.district, c.owner, c.status, max(t.transitions)::int AS transitions, max(t.last_at) AS "lastChangeAt"
       FROM t JOIN cameras c ON c.id = t.camera_id
      WHERE ${visibilityCondition(user)}
      GROUP BY c.id, c.name, c.district, c.owner, c.status
     HAVING max(t.transitions) >= $2
      ORDER BY transitions DESC, c.name
      LIMIT ${Math.max(1, Math.min(1000, Math.floor(limit)))}`,
    [Math.round(windowMin), minTransitions]);
  return res.rows.map((r) => ({ ...r, lastChangeAt: new Date(r.lastChangeAt).toISOString() }));
}

export interface HistoryItem {
  at: string;
  stream: string;
  status: string;
  reason: string | null;
}

export async function statusHistory(
  q: Queryable, cameraId: string, f: { from?: string; to?: string; limit: number; offset: number },
): Promise<{ items: HistoryItem[]; total: number }> {
  const where = ['camera_id = $1'];
  const params: unknown[] = [cameraId];
  if (f.from) { params.push(f.from); where.push(`at >= $${params.length}::timestamptz`); }
  if (f.to) { params.push(f.to); where.push(`at < $${params.length}::timestamptz`); }
  const clause = where.join(' AND ');
  const [rows, count] = await Promise.all([
    q.query<HistoryItem>(`SELECT at, stream, status, reason FROM camera_status_history WHERE ${clause} ORDER BY at DESC, id DESC LIMIT ${f.limit} OFFSET ${f.offset}`, params),
    q.query<{ n: number }>(`SELECT count(*)::int AS n FROM camera_status_history WHERE ${clause}`, params),
  ]);
  return { items: rows.rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() })), total: count.rows[0].n };
}

export interface FleetCamera {
  id: string;
  name: string;
  district: string | null;
  owner: string | null;
  status: string;
  statusReason: string | null;
  statusChangedAt: string | null;
  lastSeenAt: string | null;
  online: boolean;
  health: { checkedAt: string; method: string; reachable: boolean; error: string | null; clockDriftMs: number | null; rttMs: number | null } | null;
}

export interface FleetCameraFilters {
  q?: string;
  status?: string;
  district?: string;
  owner?: string;
  online?: boolean;
  limit: number;
  offset: number;
}

/** The camera list of the fleet page: status and last probe per camera, offline ones first. */
export async function fleetCameras(q: Queryable, user: Pick<SessionUser, 'role'>, f: FleetCameraFilters): Promise<{ items: FleetCamera[]; total: number }> {
  const where = [visibilityCondition(user)];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, v: unknown) => { params.push(v); where.push(sql(params.length)); };
  if (f.q) add((n) => `c.search_text LIKE $${n}`, `%${f.q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  if (f.status) add((n) => `c.status = $${n}`, f.status);
  if (f.district) add((n) => `c.district = $${n}`, f.district);
  if (f.owner) add((n) => `c.owner = $${n}`, f.owner);
  if (f.online !== undefined) where.push(f.online ? ONLINE_SQL : `NOT (${ONLINE_SQL})`);
  const clause = where.join(' AND ');
  const [rows, count] = await Promise.all([
    q.query<Omit<FleetCamera, 'health'> & { checkedAt: string | null; method: string | null; reachable: boolean | null; error: string | null; clockDriftMs: number | null; rttMs: number | null }>(
      `SELECT c.id, c.name, c.district, c.owner, c.status, c.status_reason AS "statusReason", c.status_changed_at AS "statusChangedAt",
              c.last_seen_at AS "lastSeenAt", (${ONLINE_SQL}) AS online,
              h.checked_at AS "checkedAt", h.method, h.reachable, h.error, h.clock_drift_ms AS "clockDriftMs", h.rtt_ms AS "rttMs"
         FROM cameras c LEFT JOIN camera_health h ON h.camera_id = c.id
        WHERE ${clause}
        ORDER BY (${ONLINE_SQL}), c.status_changed_at DESC NULLS LAST, c.name
        LIMIT ${f.limit} OFFSET ${f.offset}`, params),
    q.query<{ n: number }>(`SELECT count(*)::int AS n FROM cameras c WHERE ${clause}`, params),
  ]);
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    items: rows.rows.map((r) => ({
      id: r.id, name: r.name, district: r.district, owner: r.owner, status: r.status, statusReason: r.statusReason,
      statusChangedAt: iso(r.statusChangedAt), lastSeenAt: iso(r.lastSeenAt), online: r.online,
      health: r.checkedAt ? { checkedAt: iso(r.checkedAt)!, method: r.method!, reachable: r.reachable!, error: r.error, clockDriftMs: r.clockDriftMs, rttMs: r.rttMs } : null,
    })),
    total: count.rows[0].n,
  };
}

/** Online ratio of the whole fleet (Prometheus; no visibility filter: the metric is for operations staff). */
export async function fleetTotals(q: Queryable): Promise<{ total: number; online: number; byStatus: Record<string, number> }> {
  const res = await q.query<{ status: string; n: number }>(`SELECT c.status, count(*)::int AS n FROM cameras c GROUP BY c.status`);
  let total = 0;
  let online = 0;
  const byStatus: Record<string, number> = {};
  for (const r of res.rows) {
    total += r.n;
    if ((ONLINE_STATUSES as readonly string[]).includes(r.status)) online += r.n;
    byStatus[r.status] = r.n;
  }
  return { total, online, byStatus };
}
