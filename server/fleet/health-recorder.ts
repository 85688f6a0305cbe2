/**
 * HealthRecorder: turns ingest's `camera.state` bus messages (and health probes) into camera status history
 * and the camera's current status (CameraRepo.setStatus).
 *
 * The session manager publishes a message on every state change and re-publishes live sessions with fresh
 * stats periodically; only changes of (state, reason) per camera stream are history. Writes are batched:
 * every flushMs the pending rows go out in one INSERT and each touched camera's derived status is written
 * once. A stream that changes state many times within one flush window keeps its first rows and its latest
 * state (bursts are coalesced, the count is noted in the reason).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Queryable } from '../db/db.js';
import type { Bus, BusMessage } from '../bus.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import { deriveCameraStatus, SESSION_STATES, STREAMS, type SessionState, type Stream } from './status.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface HistoryRow {
  cameraId: string;
  stream: Stream | 'probe';
  status: string;
  reason: string | null;
  at: Date;
}

export interface ProbeOutcome {
  method: 'onvif' | 'rtsp' | 'none';
  reachable: boolean;
  /** in words */
  error: string | null;
  authFailed?: boolean;
  clockDriftMs: number | null;
  rttMs: number | null;
  /** device information of a full probe (kept until the next full probe) */
  device?: Record<string, unknown> | null;
}

export interface HealthRecorderOptions {
  db: Db;
  cameras: CameraRepo;
  bus: Bus;
  logger: FastifyBaseLogger;
  flushMs?: number;
  /** history rows kept per camera stream per flush window before coalescing */
  maxRowsPerBurst?: number;
  /** history older than this is deleted (hourly) */
  retentionDays?: number;
  /**
   * A non-idle session row younger than this (from any node) means ingest speaks for the camera and a probe
   * does not overwrite its status; older rows are taken as left behind by a node that died.
   */
  sessionStaleMs?: number;
}

interface StreamState {
  state: SessionState;
  reason: string | null;
  at: number;
}

export class HealthRecorder {
  private readonly log: FastifyBaseLogger;
  private readonly current = new Map<string, StreamState>();
  private readonly lastDerived = new Map<string, string>();
  private pending: HistoryRow[] = [];
  private readonly burst = new Map<string, { rows: number; coalesced: number; last: HistoryRow }>();
  private readonly dirty = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly maxRowsPerBurst: number;
  private readonly retentionDays: number;

  constructor(private readonly o: HealthRecorderOptions) {
    this.log = o.logger.child({ module: 'fleet.recorder' });
    this.flushMs = o.flushMs ?? 1000;
    this.maxRowsPerBurst = o.maxRowsPerBurst ?? 8;
    this.retentionDays = o.retentionDays ?? 30;
  }

  get running(): boolean {
    return this.unsubscribe !== null;
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.o.bus.subscribe((msg) => this.onMessage(msg));
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), 3600_000);
    this.pruneTimer.unref();
    this.log.info({ flushMs: this.flushMs, retentionDays: this.retentionDays }, 'health recorder started');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timer = this.pruneTimer = null;
    await this.flush();
  }

  /** Accepts a `camera.state` message; anything malformed is ignored (the bus is shared). */
  private onMessage(msg: BusMessage): void {
    if (msg.topic !== 'camera.state') return;
    // another node's ingest (via the PostgreSQL bus bridge): that node's recorder writes it
    if (msg.origin) return;
    const p = msg.payload as { cameraId?: unknown; stream?: unknown; state?: unknown; reason?: unknown } | null;
    const cameraId = typeof p?.cameraId === 'string' ? p.cameraId : msg.cameraId;
    if (!cameraId || !UUID.test(cameraId)) return;
    if (!(STREAMS as readonly unknown[]).includes(p?.stream) || !(SESSION_STATES as readonly unknown[]).includes(p?.state)) return;
    const reason = typeof p?.reason === 'string' ? p.reason.slice(0, 500) : null;
    this.observe(cameraId, p!.stream as Stream, p!.state as SessionState, reason);
  }

  /** One stream's state as ingest sees it (exposed for tests and for in-process callers). */
  observe(cameraId: string, stream: Stream, state: SessionState, reason: string | null, at = new Date()): void {
    const key = `${cameraId}|${stream}`;
    const prev = this.current.get(key);
    if (prev && prev.state === state && prev.reason === reason) return; // periodic stats, nothing new
    this.current.set(key, { state, reason, at: at.getTime() });
    this.dirty.add(cameraId);
    const row: HistoryRow = { cameraId, stream, status: state, reason, at };
    const b = this.burst.get(key);
    if (!b) {
      this.burst.set(key, { rows: 1, coalesced: 0, last: row });
      this.pending.push(row);
    } else if (b.rows < this.maxRowsPerBurst) {
      b.rows++;
      b.last = row;
      this.pending.push(row);
    } else {
      // too many changes within one window: the last row of the burst takes the latest state
      b.coalesced++;
      Object.assign(b.last, { status: state, at, reason: `${reason ?? ''}${reason ? ' ' : ''}(+${b.coalesced} changes coalesced)`.slice(0, 500) });
    }
  }

  /** Writes pending history and the touched cameras' status. Serialised: a flush waits for the previous. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow()).catch((err) => this.log.warn({ err }, 'health flush failed'));
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    const rows = this.pending;
    const cameras = [...this.dirty];
    this.pending = [];
    this.burst.clear();
    this.dirty.clear();
    if (!rows.length && !cameras.length) return;
    if (rows.length) {
      try {
        await insertHistory(this.o.db, rows);
      } catch (err) {
        // telemetry: a lost batch is logged, the cameras' current status is still written below
        this.log.warn({ err, rows: rows.length }, 'status history write failed');
      }
    }
    // a session that went live and stopped within one window still leaves the camera reachable
    const sawLive = new Set(rows.filter((r) => r.status === 'live').map((r) => r.cameraId));
    for (const id of cameras) {
      const streams = STREAMS.map((s) => this.current.get(`${id}|${s}`)).filter((s): s is StreamState => Boolean(s));
      const derived = deriveCameraStatus(streams, sawLive.has(id) ? 'live' : this.lastDerived.get(id) ?? null);
      if (!derived) continue;
      this.lastDerived.set(id, derived.status);
      try {
        await this.o.cameras.setStatus(this.o.db, id, derived.status, derived.reason);
        // The camera-level status (derived from its streams) is what lists show; stream states stay on camera.state.
        this.o.bus.publish('camera.status', { status: derived.status, reason: derived.reason }, id);
      } catch (err) {
        this.log.warn({ err, camera: id }, 'camera status write failed');
      }
    }
    // idle streams carry no information once written (unless the camera changed again during this flush)
    for (const id of cameras) {
      if (this.dirty.has(id)) continue;
      for (const s of STREAMS) if (this.current.get(`${id}|${s}`)?.state === 'idle') this.current.delete(`${id}|${s}`);
    }
  }

  /** Sessions per state on this node (Prometheus). */
  sessionCounts(): Record<SessionState, number> {
    const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
    for (const s of this.current.values()) counts[s.state]++;
    return counts;
  }

  /** True while ingest on this node holds a session of this camera that is not idle: ingest is the authority then. */
  hasActiveSession(cameraId: string): boolean {
    return STREAMS.some((s) => {
      const st = this.current.get(`${cameraId}|${s}`);
      return st !== undefined && st.state !== 'idle';
    });
  }

  /**
   * Records a health probe: latest probe per camera (reachability, drift, device), a `probe` history row when
   * the probe's verdict changed, and the camera's status unless an ingest session speaks for it.
   */
  async recordProbe(cameraId: string, p: ProbeOutcome): Promise<{ status: string; statusWritten: boolean }> {
    let status = p.reachable ? (p.authFailed ? 'auth_failed' : 'reachable') : 'offline';
    let reason = p.reachable && !p.authFailed ? null : (p.error ?? 'no answer').slice(0, 500);
    let active = this.hasActiveSession(cameraId);
    await this.o.db.tx(async (q) => {
      if (p.method === 'rtsp' && status === 'reachable') {
        // an RTSP OPTIONS probe sends no credentials, so it cannot tell whether the login works: a camera whose RTSP
        // login failed stays auth_failed (not online) until a session logs in again
        const cur = await q.query<{ status: string | null; status_reason: string | null }>('SELECT status, status_reason FROM cameras WHERE id = $1', [cameraId]);
        if (cur.rows[0]?.status === 'auth_failed') {
          status = 'auth_failed';
          reason = cur.rows[0].status_reason ?? 'the camera refused the stream login';
        }
      }
      if (!active) {
        // a session on another node (split deployments): its latest row per stream is not idle and recent
        const other = await q.query(
          `SELECT 1 FROM (SELECT DISTINCT ON (stream) status, at FROM camera_status_history
                           WHERE camera_id = $1 AND stream IN ('main', 'sub') ORDER BY stream, at DESC, id DESC) s
            WHERE s.status <> 'idle' AND s.at > now() - make_interval(secs => $2::double precision) LIMIT 1`,
          [cameraId, (this.o.sessionStaleMs ?? 15 * 60_000) / 1000]);
        active = other.rowCount > 0;
      }
      await q.query(
        `INSERT INTO camera_health (camera_id, checked_at, method, reachable, error, clock_drift_ms, rtt_ms, device)
         SELECT $1, now(), $2, $3, $4, $5, $6, COALESCE($7::jsonb, '{}'::jsonb) WHERE EXISTS (SELECT 1 FROM cameras WHERE id = $1)
         ON CONFLICT (camera_id) DO UPDATE SET checked_at = excluded.checked_at, method = excluded.method, reachable = excluded.reachable,
           error = excluded.error, clock_drift_ms = excluded.clock_drift_ms, rtt_ms = excluded.rtt_ms,
           device = CASE WHEN $7::jsonb IS NULL THEN camera_health.device ELSE excluded.device END`,
        [cameraId, p.method, p.reachable, p.error?.slice(0, 500) ?? null, p.clockDriftMs === null ? null : Math.max(-2147483647, Math.min(2147483647, Math.round(p.clockDriftMs))),
          p.rttMs === null ? null : Math.round(p.rttMs), p.device ? JSON.stringify(p.device) : null]);
      const last = await q.query<{ status: string; reason: string | null }>(
        `SELECT status, reason FROM camera_status_history WHERE camera_id = $1 AND stream = 'probe' ORDER BY at DESC, id DESC LIMIT 1`, [cameraId]);
      if (last.rows[0]?.status !== status || last.rows[0]?.reason !== reason) {
        await insertHistory(q, [{ cameraId, stream: 'probe', status, reason, at: new Date() }]);
      }
      if (!active) await this.o.cameras.setStatus(q, cameraId, status, reason);
    });
    if (!active) {
      this.lastDerived.set(cameraId, status);
      this.o.bus.publish('camera.status', { status, reason }, cameraId);
    }
    this.o.bus.publish('camera.health', {
      cameraId, status, reason, reachable: p.reachable, clockDriftMs: p.clockDriftMs, method: p.method, checkedAt: new Date().toISOString(), statusWritten: !active,
    }, cameraId);
    return { status, statusWritten: !active };
  }

  async prune(): Promise<void> {
    try {
      const res = await this.o.db.query(`DELETE FROM camera_status_history WHERE at < now() - make_interval(days => $1::int)`, [this.retentionDays]);
      if (res.rowCount) this.log.info({ deleted: res.rowCount, retentionDays: this.retentionDays }, 'old status history pruned');
    } catch (err) {
      this.log.warn({ err }, 'status history pruning failed');
    }
  }
}

/** One INSERT for many rows; rows of cameras deleted meanwhile are skipped instead of failing the batch. */
export async function insertHistory(q: Queryable, rows: HistoryRow[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `INSERT INTO camera_status_history (camera_id, stream, status, reason, at)
     SELECT v.camera_id, v.stream, v.status, v.reason, v.at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS v(camera_id, stream, status, reason, at, n)
      WHERE EXISTS (SELECT 1 FROM cameras c WHERE c.id = v.camera_id)
      ORDER BY v.n`,
    [rows.map((r) => r.cameraId), rows.map((r) => r.stream), rows.map((r) => r.status), rows.map((r) => r.reason), rows.map((r) => r.at.toISOString())],
  );
}
