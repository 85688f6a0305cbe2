/** SQL of recording: settings, the segment index, stores, locks and what retention may delete. */
import type { Queryable } from '../db/db.js';
import type { GopTuple } from './segment-file.js';
import type { SegmentClosed, SegmentOpened } from './camera-recorder.js';

export type RecordingMode = 'off' | 'continuous' | 'events' | 'schedule';
export type EventSource = 'candidate' | 'alarm' | 'incident';

export interface ScheduleWindow {
  /** ISO weekdays, Monday = 1 */
  days: number[];
  from: string;
  to: string;
}

export interface RecordingSettings {
  cameraId: string;
  mode: RecordingMode;
  stream: 'main' | 'sub';
  retentionDays: number;
  preRollS: number;
  postRollS: number;
  eventSources: EventSource[];
  incidentRadiusM: number;
  schedule: ScheduleWindow[];
  updatedAt?: string;
}

export const DEFAULT_SETTINGS: Omit<RecordingSettings, 'cameraId'> = {
  mode: 'off', stream: 'sub', retentionDays: 30, preRollS: 10, postRollS: 30,
  eventSources: ['candidate', 'alarm', 'incident'], incidentRadiusM: 300, schedule: [],
};

const SETTINGS_COLUMNS = `camera_id AS "cameraId", mode, stream, retention_days AS "retentionDays", pre_roll_s AS "preRollS",
  post_roll_s AS "postRollS", event_sources AS "eventSources", incident_radius_m AS "incidentRadiusM", schedule,
  updated_at AS "updatedAt"`;

export async function getSettings(q: Queryable, cameraId: string): Promise<RecordingSettings> {
  const r = await q.query<RecordingSettings>(`SELECT ${SETTINGS_COLUMNS} FROM recording_settings WHERE camera_id = $1`, [cameraId]);
  return r.rows[0] ? normalise(r.rows[0]) : { cameraId, ...DEFAULT_SETTINGS };
}

/** Every camera that records something (mode other than off). */
export async function activeSettings(q: Queryable): Promise<RecordingSettings[]> {
  const r = await q.query<RecordingSettings>(`SELECT ${SETTINGS_COLUMNS} FROM recording_settings WHERE mode <> 'off'`);
  return r.rows.map(normalise);
}

function normalise(s: RecordingSettings): RecordingSettings {
  return { ...s, updatedAt: s.updatedAt ? new Date(s.updatedAt).toISOString() : undefined, schedule: (s.schedule ?? []) as ScheduleWindow[] };
}

export async function putSettings(q: Queryable, s: RecordingSettings, userId: string | null): Promise<RecordingSettings> {
  await q.query(
    `INSERT INTO recording_settings (camera_id, mode, stream, retention_days, pre_roll_s, post_roll_s, event_sources, incident_radius_m, schedule, updated_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
     ON CONFLICT (camera_id) DO UPDATE SET mode = $2, stream = $3, retention_days = $4, pre_roll_s = $5, post_roll_s = $6,
       event_sources = $7, incident_radius_m = $8, schedule = $9, updated_by = $10, updated_at = now()`,
    [s.cameraId, s.mode, s.stream, s.retentionDays, s.preRollS, s.postRollS, s.eventSources, s.incidentRadiusM, JSON.stringify(s.schedule), userId],
  );
  return getSettings(q, s.cameraId);
}

// ---------------------------------------------------------------- segments

export interface SegmentRow {
  id: number;
  cameraId: string;
  stream: 'main' | 'sub';
  nodeId: string;
  file: string;
  startMs: number;
  endMs: number;
  bytes: number;
  status: 'open' | 'complete';
  initBytes: number;
  gops: GopTuple[];
  codec: string | null;
  width: number | null;
  height: number | null;
}

const SEGMENT_COLUMNS = `id::int AS id, camera_id AS "cameraId", stream, node_id AS "nodeId", file,
  (extract(epoch FROM start_at) * 1000)::float8 AS "startMs", (extract(epoch FROM end_at) * 1000)::float8 AS "endMs",
  bytes::float8 AS bytes, status, init_bytes AS "initBytes", gops, codec, width, height`;

const S_COLUMNS = `s.id::int AS id, s.camera_id AS "cameraId", s.stream, s.node_id AS "nodeId", s.file,
            (extract(epoch FROM s.start_at) * 1000)::float8 AS "startMs", (extract(epoch FROM s.end_at) * 1000)::float8 AS "endMs",
            s.bytes::float8 AS bytes, s.status, s.init_bytes AS "initBytes", s.gops, s.codec, s.width, s.height`;

const toRow = (r: SegmentRow): SegmentRow => ({ ...r, startMs: Math.round(Number(r.startMs)), endMs: Math.round(Number(r.endMs)), bytes: Number(r.bytes) });

export async function insertOpenSegment(q: Queryable, nodeId: string, s: SegmentOpened): Promise<void> {
  await q.query(
    `INSERT INTO recording_segments (camera_id, stream, node_id, file, start_at, end_at, bytes, status, init_bytes, codec, width, height)
     VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), to_timestamp($5 / 1000.0), $6::integer, 'open', $6::integer, $7, $8, $9)
     ON CONFLICT (file) DO NOTHING`,
    [s.cameraId, s.stream, nodeId, s.file, s.startMs, s.initBytes, s.codec ?? null, s.width ?? null, s.height ?? null],
  );
}

/** The file is closed and fsynced: write its final extent and GOP index (inserting the row if the open one never made it). */
export async function completeSegment(q: Queryable, nodeId: string, s: SegmentClosed): Promise<void> {
  await q.query(
    `INSERT INTO recording_segments (camera_id, stream, node_id, file, start_at, end_at, bytes, status, init_bytes, gops, codec, width, height)
     VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), to_timestamp($6 / 1000.0), $7, 'complete', $8, $9, $10, $11, $12)
     ON CONFLICT (file) DO UPDATE SET end_at = excluded.end_at, bytes = excluded.bytes, status = 'complete', gops = excluded.gops`,
    [s.cameraId, s.stream, nodeId, s.file, s.startMs, Math.max(s.startMs, s.endMs), s.bytes, s.initBytes, JSON.stringify(s.gops), s.codec ?? null, s.width ?? null, s.height ?? null],
  );
}

export async function deleteSegmentByFile(q: Queryable, file: string): Promise<void> {
  await q.query('DELETE FROM recording_segments WHERE file = $1', [file]);
}

/** Segments of a camera overlapping [fromMs, toMs), oldest first. */
export async function segmentsInRange(q: Queryable, cameraId: string, fromMs: number, toMs: number, stream?: string): Promise<SegmentRow[]> {
  const r = await q.query<SegmentRow>(
    `SELECT ${SEGMENT_COLUMNS} FROM recording_segments
     WHERE camera_id = $1 AND start_at < to_timestamp($3 / 1000.0) AND end_at > to_timestamp($2 / 1000.0) ${stream ? 'AND stream = $4' : ''}
       AND (status = 'open' OR end_at > start_at)
     ORDER BY start_at, id`,
    stream ? [cameraId, fromMs, toMs, stream] : [cameraId, fromMs, toMs],
  );
  return r.rows.map(toRow);
}

export async function segmentById(q: Queryable, id: number): Promise<SegmentRow | undefined> {
  const r = await q.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM recording_segments WHERE id = $1`, [id]);
  return r.rows[0] ? toRow(r.rows[0]) : undefined;
}

export async function nodeSegments(q: Queryable, nodeId: string, where: string, params: unknown[] = []): Promise<SegmentRow[]> {
  const r = await q.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM recording_segments WHERE node_id = $1 AND ${where} ORDER BY start_at`, [nodeId, ...params]);
  return r.rows.map(toRow);
}

// ---------------------------------------------------------------- stores

export async function heartbeatStore(q: Queryable, s: { id: string; address: string | null; dir: string; usedBytes: number; maxBytes: number | null; failing: string | null }): Promise<void> {
  await q.query(
    `INSERT INTO recording_nodes (id, address, dir, used_bytes, max_bytes, failing, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (id) DO UPDATE SET address = $2, dir = $3, used_bytes = $4, max_bytes = $5, failing = $6, heartbeat_at = now()`,
    [s.id, s.address, s.dir, s.usedBytes, s.maxBytes, s.failing],
  );
}

export interface StoreRow {
  id: string;
  address: string | null;
  alive: boolean;
  usedBytes: number;
  maxBytes: number | null;
  failing: string | null;
  heartbeatAt: string;
}

export async function stores(q: Queryable, aliveWithinS: number): Promise<StoreRow[]> {
  const r = await q.query<StoreRow>(
    `SELECT id, address, heartbeat_at > now() - make_interval(secs => $1) AS alive, used_bytes::float8 AS "usedBytes",
            max_bytes::float8 AS "maxBytes", failing, heartbeat_at AS "heartbeatAt" FROM recording_nodes ORDER BY id`, [aliveWithinS]);
  return r.rows.map((s) => ({ ...s, heartbeatAt: new Date(s.heartbeatAt).toISOString() }));
}

export async function usedBytes(q: Queryable, nodeId: string): Promise<number> {
  const r = await q.query<{ n: number }>('SELECT coalesce(sum(bytes), 0)::float8 AS n FROM recording_segments WHERE node_id = $1', [nodeId]);
  return Number(r.rows[0].n);
}

// ---------------------------------------------------------------- locks and retention

/**
 * SQL condition "segment s is locked": it overlaps an explicit lock or lies within `$win` seconds of a case's or a
 * 110 incident's time on the same camera, and that case is open or closed less than `$keep` days ago (an incident:
 * not closed/returned, or its case is kept, or it closed less than `$keep` days ago). Parameters are named by the caller.
 */
export function lockedSql(win: string, keep: string): string {
  const caseKept = (c: string) => `(${c}.status NOT IN ('closed', 'void') OR coalesce(${c}.closed_at, ${c}.voided_at, ${c}.updated_at) > now() - make_interval(days => ${keep}))`;
  const incidentKept = (i: string) => `(${i}.status NOT IN ('closed', 'returned') OR ${i}.status_at > now() - make_interval(days => ${keep})
      OR EXISTS (SELECT 1 FROM cases ic WHERE ic.id = ${i}.case_id AND ${caseKept('ic')}))`;
  return `(
    EXISTS (SELECT 1 FROM recording_locks l LEFT JOIN cases lc ON lc.id = l.case_id LEFT JOIN incidents_110 li ON li.id = l.incident_id
            WHERE l.camera_id = s.camera_id AND l.from_at < s.end_at AND l.to_at > s.start_at
              AND ((lc.id IS NOT NULL AND ${caseKept('lc')}) OR (li.id IS NOT NULL AND ${incidentKept('li')})))
    OR EXISTS (SELECT 1 FROM cases c WHERE c.camera_id = s.camera_id
               AND coalesce(c.reported_at, c.filed_at) BETWEEN s.start_at - make_interval(secs => ${win}) AND s.end_at + make_interval(secs => ${win})
               AND ${caseKept('c')})
    OR EXISTS (SELECT 1 FROM incidents_110 i WHERE i.camera_id = s.camera_id
               AND i.reported_at BETWEEN s.start_at - make_interval(secs => ${win}) AND s.end_at + make_interval(secs => ${win})
               AND ${incidentKept('i')})
  )`;
}

export interface RetentionPolicy {
  nodeId: string;
  defaultDays: number;
  lockWindowS: number;
  caseKeepDays: number;
}

/** Complete, unlocked segments of this node past their camera's retention, oldest first. */
export async function expiredSegments(q: Queryable, p: RetentionPolicy, limit: number): Promise<SegmentRow[]> {
  const r = await q.query<SegmentRow>(
    `SELECT ${S_COLUMNS}
     FROM recording_segments s LEFT JOIN recording_settings rs ON rs.camera_id = s.camera_id
     WHERE s.node_id = $1 AND s.status = 'complete'
       AND s.end_at < now() - make_interval(days => coalesce(rs.retention_days, $2))
       AND NOT ${lockedSql('$3', '$4')}
     ORDER BY s.start_at LIMIT $5`,
    [p.nodeId, p.defaultDays, p.lockWindowS, p.caseKeepDays, limit],
  );
  return r.rows.map(toRow);
}

/** The oldest complete, unlocked segments of this node (quota). */
export async function oldestUnlocked(q: Queryable, p: RetentionPolicy, limit: number): Promise<SegmentRow[]> {
  const r = await q.query<SegmentRow>(
    `SELECT ${S_COLUMNS}
     FROM recording_segments s
     WHERE s.node_id = $1 AND s.status = 'complete' AND NOT ${lockedSql('$2', '$3')}
     ORDER BY s.start_at LIMIT $4`,
    [p.nodeId, p.lockWindowS, p.caseKeepDays, limit],
  );
  return r.rows.map(toRow);
}

/** Is any of [fromMs, toMs) of the camera locked? (tests, the API) */
export async function isLocked(q: Queryable, cameraId: string, fromMs: number, toMs: number, p: Pick<RetentionPolicy, 'lockWindowS' | 'caseKeepDays'>): Promise<boolean> {
  const r = await q.query<{ locked: boolean }>(
    `SELECT ${lockedSql('$4', '$5')} AS locked FROM (SELECT $1::uuid AS camera_id, to_timestamp($2 / 1000.0) AS start_at, to_timestamp($3 / 1000.0) AS end_at) s`,
    [cameraId, fromMs, toMs, p.lockWindowS, p.caseKeepDays],
  );
  return r.rows[0].locked;
}
