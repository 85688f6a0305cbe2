/**
 * The recorder of a node: for every camera this node pulls whose recording settings say so, one CameraRecorder on
 * the camera's own session (a lease named "recorder" keeps the session up, no second pull). Events mode is fed from
 * the bus (AI candidates, camera alarms, 110 incidents at or near the camera). Schedules (the city's clock, see
 * schedule.ts) are evaluated at every sync (RECORDING_SYNC_S). A write failure (disk full, unwritable) stops that camera's recording with a camera alarm and a fleet
 * alert, and is retried; live video does not depend on any of it. Retention and quota run here too, for this store.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, statfs, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import type { IngestService } from '../../ingest/service.js';
import type { Lease } from '../../ingest/session-manager.js';
import { envNumber } from '../config.js';
import { CameraRecorder, type RecorderSink } from './camera-recorder.js';
import {
  activeSettings, completeSegment, deleteSegmentByFile, expiredSegments, heartbeatStore, insertOpenSegment, oldestUnlocked, usedBytes,
  type RecordingSettings, type RetentionPolicy,
} from './recording-repo.js';
import { inSchedule } from './schedule.js';
import { reconcileStore, type ReconcileReport } from './reconcile.js';

export interface RecordingConfig {
  enabled: boolean;
  dir: string;
  /** stable name of this store (files outlive process restarts; cluster node ids do not) */
  nodeId: string;
  /** quota of this store in bytes (0 = none) */
  maxBytes: number;
  /** keep at least this much of the disk free (bytes): oldest unlocked recordings go first */
  minFreeBytes: number;
  segmentMs: number;
  defaultRetentionDays: number;
  caseKeepDays: number;
  lockWindowS: number;
  retryMs: number;
  syncMs: number;
  retentionMs: number;
  /** a store whose heartbeat is older than this is unavailable */
  storeTimeoutS: number;
}

const onOff = (v: string | undefined, dflt: boolean) => (v === undefined || v === '' ? dflt : !['0', 'false', 'no', 'off'].includes(v.toLowerCase()));

/** RECORDINGS_* / RECORDING_* environment variables. */
export function recordingConfigFromEnv(env: NodeJS.ProcessEnv, dataDir: string): RecordingConfig {
  const id = (env.RECORDINGS_NODE_ID ?? '').trim() || hostname().slice(0, 60);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error('RECORDINGS_NODE_ID must be 1–64 letters, digits, dots, dashes or underscores');
  return {
    enabled: onOff(env.RECORDINGS, true),
    dir: resolve(env.RECORDINGS_DIR || join(dataDir, 'recordings')),
    nodeId: id,
    maxBytes: envNumber(env, 'RECORDINGS_MAX_GB', 0, 0, 1_000_000) * 1024 ** 3,
    minFreeBytes: envNumber(env, 'RECORDINGS_MIN_FREE_MB', 512, 0, 1_000_000) * 1024 ** 2,
    segmentMs: envNumber(env, 'RECORDING_SEGMENT_S', 60, 2, 3600) * 1000,
    defaultRetentionDays: envNumber(env, 'RECORDING_RETENTION_DAYS', 30, 1, 3650),
    caseKeepDays: envNumber(env, 'RECORDING_CASE_RETENTION_DAYS', 365, 0, 36500),
    lockWindowS: envNumber(env, 'RECORDING_LOCK_WINDOW_S', 300, 0, 86400),
    retryMs: envNumber(env, 'RECORDING_RETRY_S', 30, 1, 3600) * 1000,
    syncMs: envNumber(env, 'RECORDING_SYNC_S', 5, 0.2, 600) * 1000,
    retentionMs: envNumber(env, 'RECORDING_RETENTION_CHECK_S', 60, 0.2, 86400) * 1000,
    storeTimeoutS: 45,
  };
}

interface Entry {
  settings: RecordingSettings;
  rec: CameraRecorder;
  lease?: Lease;
  failing?: { reason: string; since: number };
  lat?: number | null;
  lng?: number | null;
}

export interface RecorderStatus {
  nodeId: string;
  dir: string;
  usedBytes: number;
  maxBytes: number;
  freeBytes: number | null;
  failing: string | null;
  cameras: Array<{ cameraId: string; stream: string; mode: string; recording: boolean; failing: string | null; streamBytes: number; writtenBytes: number }>;
  lastReconcile?: ReconcileReport;
}

const RECORDING_ALARM_TOPIC = 'streeteye/RecordingFailed';

export class Recorder {
  readonly cfg: RecordingConfig;
  private readonly entries = new Map<string, Entry>();
  private readonly log: Logger;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe?: () => void;
  private syncing?: Promise<void>;
  private sweeping?: Promise<{ expired: number; quota: number }>;
  private stopped = false;
  private storeFailing: string | null = null;
  private used = 0;
  private free: number | null = null;
  lastReconcile?: ReconcileReport;

  constructor(private readonly ctx: AppContext, private readonly ingest: IngestService, cfg: RecordingConfig) {
    this.cfg = cfg;
    this.log = (ctx.logger as unknown as Logger).child({ module: 'recording' });
  }

  get policy(): RetentionPolicy {
    return { nodeId: this.cfg.nodeId, defaultDays: this.cfg.defaultRetentionDays, lockWindowS: this.cfg.lockWindowS, caseKeepDays: this.cfg.caseKeepDays };
  }

  private readonly sink: RecorderSink = {
    opened: (s) => insertOpenSegment(this.ctx.db, this.cfg.nodeId, s),
    closed: async (s) => {
      if (!s.gops.length || s.bytes <= s.initBytes) {
        // nothing but an init segment (the camera dropped at once, or the disk refused the first GOP)
        await deleteSegmentByFile(this.ctx.db, s.file);
        await unlink(join(this.cfg.dir, s.file)).catch(() => {});
        return;
      }
      await completeSegment(this.ctx.db, this.cfg.nodeId, s);
      this.used += s.bytes;
    },
  };

  async start(): Promise<void> {
    await mkdir(this.cfg.dir, { recursive: true });
    try {
      this.lastReconcile = await reconcileStore(this.ctx.db, { root: this.cfg.dir, nodeId: this.cfg.nodeId });
      const r = this.lastReconcile;
      // logged on every start, changes or not (an operator, and the crash test, look for it)
      this.log.info(r, 'recordings reconciled with the index');
    } catch (err) {
      this.log.error({ err }, 'reconciling recordings failed');
    }
    this.used = await usedBytes(this.ctx.db, this.cfg.nodeId);
    await this.heartbeat().catch(() => {});
    this.unsubscribe = this.ctx.bus.subscribe((m) => this.onBus(m.topic, m.payload, m.cameraId));
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch((err) => this.log.warn({ err }, 'recording task failed')), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.cfg.syncMs, () => this.sync());
    every(10_000, () => this.heartbeat());
    every(this.cfg.retentionMs, async () => { await this.sweep(); });
    await this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe?.();
    await this.syncing?.catch(() => {});
    await this.sweeping?.catch(() => {});
    await Promise.all([...this.entries.values()].map((e) => this.drop(e)));
    this.entries.clear();
  }

  /** The recorder of a camera on this node, if it records. */
  recorderFor(cameraId: string): CameraRecorder | undefined {
    return this.entries.get(cameraId)?.rec;
  }

  status(): RecorderStatus {
    return {
      nodeId: this.cfg.nodeId, dir: this.cfg.dir, usedBytes: this.used, maxBytes: this.cfg.maxBytes, freeBytes: this.free, failing: this.storeFailing,
      cameras: [...this.entries.values()].map((e) => ({
        cameraId: e.settings.cameraId, stream: e.settings.stream, mode: e.settings.mode, recording: e.rec.recording,
        failing: e.failing?.reason ?? null, streamBytes: e.rec.streamBytes, writtenBytes: e.rec.writtenBytes,
      })),
      lastReconcile: this.lastReconcile,
    };
  }

  /** Re-read the settings now (after an edit). */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.syncing) return this.syncing;
    this.syncing = this.doSync().finally(() => { this.syncing = undefined; });
    return this.syncing;
  }

  private mine(cameraId: string): boolean {
    return !this.ctx.cluster || this.ctx.cluster.streams(cameraId);
  }

  private async doSync(): Promise<void> {
    const wanted = (await activeSettings(this.ctx.db)).filter((s) => this.mine(s.cameraId));
    const ids = new Set(wanted.map((s) => s.cameraId));
    for (const [id, e] of this.entries) if (!ids.has(id)) { this.entries.delete(id); await this.drop(e); }
    const coords = wanted.length
      ? new Map((await this.ctx.db.query<{ id: string; lat: number | null; lng: number | null }>('SELECT id, lat, lng FROM cameras WHERE id = ANY($1::uuid[])', [[...ids]])).rows.map((r) => [r.id, r]))
      : new Map();
    for (const s of wanted) {
      if (!coords.has(s.cameraId)) continue; // camera deleted
      let e = this.entries.get(s.cameraId);
      if (e && e.settings.stream !== s.stream) { this.entries.delete(s.cameraId); await this.drop(e); e = undefined; }
      if (!e) {
        const rec = new CameraRecorder({ cameraId: s.cameraId, stream: s.stream, root: this.cfg.dir, sink: this.sink, segmentMs: this.cfg.segmentMs, preRollMs: s.preRollS * 1000 });
        e = { settings: s, rec };
        const entry = e;
        rec.on('failed', (err: Error) => void this.onFailure(entry, err));
        rec.on('warn', (err: Error) => this.log.warn({ err, camera: s.cameraId }, 'recording index write failed'));
        this.entries.set(s.cameraId, e);
      }
      e.settings = s;
      e.lat = coords.get(s.cameraId)?.lat;
      e.lng = coords.get(s.cameraId)?.lng;
      e.rec.mode = s.mode === 'continuous' || (s.mode === 'schedule' && inSchedule(s.schedule)) ? 'continuous' : 'events';
      if (s.mode === 'schedule') e.rec.o.preRollMs = 0;
      else e.rec.o.preRollMs = s.preRollS * 1000;
      this.attach(e);
      if (e.failing && Date.now() - e.failing.since >= this.cfg.retryMs && !this.storeFailing) await this.retry(e);
    }
  }

  /** Hold the camera's session (start it if needed) and listen to it; follow a replaced session. */
  private attach(e: Entry): void {
    const { cameraId, stream } = e.settings;
    const current = this.ingest.manager.get(cameraId, stream);
    if (e.lease && current === e.lease.session && e.lease.session.running) {
      e.rec.attach(e.lease.session);
      return;
    }
    e.lease?.release();
    e.lease = undefined;
    try {
      e.lease = this.ingest.manager.acquire(cameraId, stream, 'recorder');
      e.rec.attach(e.lease.session);
    } catch (err) {
      this.log.debug({ camera: cameraId, err: (err as Error).message }, 'cannot hold the session for recording yet');
    }
  }

  private async drop(e: Entry): Promise<void> {
    await e.rec.stop();
    e.lease?.release();
    e.lease = undefined;
    if (e.failing) await this.clearAlarm(e.settings.cameraId).catch(() => {});
  }

  // ---------------------------------------------------------------- events

  private onBus(topic: string, payload: unknown, cameraId?: string): void {
    const p = (payload ?? {}) as Record<string, unknown>;
    if (topic === 'event.candidate' && cameraId) this.triggerCamera(cameraId, 'candidate');
    else if (topic === 'camera.alarm' && cameraId && p.active === true && p.topic !== RECORDING_ALARM_TOPIC) this.triggerCamera(cameraId, 'alarm');
    else if (topic === 'incident.created' && typeof p.id === 'string') void this.onIncident(p.id).catch((err) => this.log.warn({ err }, 'incident trigger failed'));
  }

  private triggerCamera(cameraId: string, source: 'candidate' | 'alarm' | 'incident'): void {
    const e = this.entries.get(cameraId);
    if (!e || e.settings.mode !== 'events' || !e.settings.eventSources.includes(source)) return;
    e.rec.trigger(Date.now() + e.settings.postRollS * 1000);
    this.log.debug({ camera: cameraId, source }, 'event recording triggered');
  }

  private async onIncident(id: string): Promise<void> {
    const r = await this.ctx.db.query<{ camera_id: string | null; lat: number | null; lng: number | null }>('SELECT camera_id, lat, lng FROM incidents_110 WHERE id = $1', [id]);
    const inc = r.rows[0];
    if (!inc) return;
    for (const e of this.entries.values()) {
      const near = e.settings.cameraId === inc.camera_id
        || (inc.lat != null && inc.lng != null && e.lat != null && e.lng != null && distanceM(inc.lat, inc.lng, e.lat, e.lng) <= e.settings.incidentRadiusM);
      if (near) this.triggerCamera(e.settings.cameraId, 'incident');
    }
  }

  // ---------------------------------------------------------------- failures

  private async onFailure(e: Entry, err: Error): Promise<void> {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOSPC' ? 'disk full (ENOSPC)' : code === 'EDQUOT' ? 'disk quota exceeded (EDQUOT)' : code === 'EROFS' ? 'disk is read-only (EROFS)'
      : code === 'EACCES' || code === 'EPERM' ? `recordings folder not writable (${code})` : `write failed: ${err.message}`;
    e.failing = { reason, since: Date.now() };
    this.log.error({ camera: e.settings.cameraId, reason, dir: this.cfg.dir }, 'recording stopped: cannot write');
    await this.raiseAlarm(e.settings.cameraId, reason).catch((x) => this.log.warn({ err: x }, 'could not open the recording alarm'));
  }

  private async retry(e: Entry): Promise<void> {
    // probe the disk with a small write before trying a whole segment again
    const probe = join(this.cfg.dir, `.probe-${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(probe, randomBytes(64 * 1024));
      await unlink(probe);
    } catch {
      await unlink(probe).catch(() => {});
      e.failing!.since = Date.now();
      return;
    }
    this.log.info({ camera: e.settings.cameraId }, 'recording resumes: the disk takes writes again');
    e.failing = undefined;
    e.rec.retry();
    await this.clearAlarm(e.settings.cameraId).catch(() => {});
  }

  private async raiseAlarm(cameraId: string, reason: string): Promise<void> {
    const row = (await this.ctx.db.query<{ id: number; started_at: Date }>(
      `INSERT INTO camera_alarms (camera_id, kind, topic, started_at) VALUES ($1, 'other', $2, now())
       ON CONFLICT (camera_id, kind) WHERE ended_at IS NULL DO NOTHING RETURNING id::int AS id, started_at`, [cameraId, RECORDING_ALARM_TOPIC])).rows[0];
    if (row) {
      this.ctx.bus.publish('camera.alarm', { cameraId, alarmId: row.id, kind: 'other', topic: RECORDING_ALARM_TOPIC, active: true, startedAt: new Date(row.started_at).toISOString(), endedAt: null, reason }, cameraId);
    }
    this.ctx.bus.publish('fleet.alert', { kind: 'recording_failed', node: this.cfg.nodeId, cameraId, reason, active: true, at: new Date().toISOString() }, cameraId);
  }

  private async clearAlarm(cameraId: string): Promise<void> {
    const row = (await this.ctx.db.query<{ id: number; started_at: Date; ended_at: Date }>(
      `UPDATE camera_alarms SET ended_at = now() WHERE camera_id = $1 AND kind = 'other' AND topic = $2 AND ended_at IS NULL
       RETURNING id::int AS id, started_at, ended_at`, [cameraId, RECORDING_ALARM_TOPIC])).rows[0];
    if (row) {
      this.ctx.bus.publish('camera.alarm', { cameraId, alarmId: row.id, kind: 'other', topic: RECORDING_ALARM_TOPIC, active: false, startedAt: new Date(row.started_at).toISOString(), endedAt: new Date(row.ended_at).toISOString() }, cameraId);
      this.ctx.bus.publish('fleet.alert', { kind: 'recording_failed', node: this.cfg.nodeId, cameraId, reason: null, active: false, at: new Date().toISOString() }, cameraId);
    }
  }

  private async heartbeat(): Promise<void> {
    await heartbeatStore(this.ctx.db, {
      id: this.cfg.nodeId, address: this.ctx.cluster?.address ?? null, dir: this.cfg.dir, usedBytes: this.used,
      maxBytes: this.cfg.maxBytes || null, failing: this.storeFailing ?? ([...this.entries.values()].find((e) => e.failing)?.failing?.reason ?? null),
    });
  }

  // ---------------------------------------------------------------- retention

  /** Delete what retention and the quota say must go (oldest first, never a locked span). */
  sweep(): Promise<{ expired: number; quota: number }> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = this.doSweep().finally(() => { this.sweeping = undefined; });
    return this.sweeping;
  }

  private async remove(files: string[]): Promise<void> {
    for (const file of files) {
      // row first: a crash before the unlink leaves a file that reconcile indexes again, never a row without a file
      await deleteSegmentByFile(this.ctx.db, file);
      await unlink(join(this.cfg.dir, file)).catch(() => {});
    }
  }

  private async doSweep(): Promise<{ expired: number; quota: number }> {
    let expired = 0;
    let quota = 0;
    for (;;) {
      const rows = await expiredSegments(this.ctx.db, this.policy, 200);
      if (!rows.length) break;
      await this.remove(rows.map((r) => r.file));
      expired += rows.length;
      if (rows.length < 200) break;
    }
    this.used = await usedBytes(this.ctx.db, this.cfg.nodeId);
    this.free = await statfs(this.cfg.dir).then((s) => Number(s.bavail) * Number(s.bsize), () => null);
    const over = (): boolean => (this.cfg.maxBytes > 0 && this.used > this.cfg.maxBytes) || (this.free !== null && this.free < this.cfg.minFreeBytes);
    let stuck = false;
    while (over()) {
      const rows = await oldestUnlocked(this.ctx.db, this.policy, 20);
      if (!rows.length) { stuck = true; break; }
      await this.remove(rows.map((r) => r.file));
      quota += rows.length;
      const gone = rows.reduce((a, r) => a + r.bytes, 0);
      this.used -= gone;
      if (this.free !== null) this.free += gone;
    }
    const was = this.storeFailing;
    this.storeFailing = stuck ? (this.cfg.maxBytes > 0 && this.used > this.cfg.maxBytes ? 'recording quota full and every remaining recording is locked' : 'disk nearly full and every remaining recording is locked') : null;
    if (this.storeFailing && !was) {
      this.log.error({ reason: this.storeFailing }, 'recording stopped on this store');
      for (const e of this.entries.values()) {
        e.rec.suspend(new Error(this.storeFailing));
        e.failing = { reason: this.storeFailing, since: Date.now() };
        await this.raiseAlarm(e.settings.cameraId, this.storeFailing).catch(() => {});
      }
    } else if (!this.storeFailing && was) {
      for (const e of this.entries.values()) if (e.failing) await this.retry(e);
    }
    if (expired || quota) this.log.info({ expired, quota, usedBytes: this.used }, 'recording retention');
    return { expired, quota };
  }
}

/** Great-circle distance in metres. */
export function distanceM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const R = 6_371_000;
  const r = (d: number) => (d * Math.PI) / 180;
  const a = Math.sin(r(lat2 - lat1) / 2) ** 2 + Math.cos(r(lat1)) * Math.cos(r(lat2)) * Math.sin(r(lng2 - lng1) / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}
