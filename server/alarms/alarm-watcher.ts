/**
 * Listens to the cameras' own alarms (ONVIF pull-point events) and keeps camera_alarms true to them: a row opens when
 * a camera raises an alarm and closes when it clears; each change goes out on the bus as `camera.alarm`, with the
 * camera id so restricted cameras stay hidden from the consoles that may not see them.
 *
 * Who listens: the node that pulls the camera (role all: every camera; ingest/analytics: the cameras it leases), so
 * a camera has one subscription across the cluster, like its one RTSP pull (server/node.ts decides where it runs).
 * Cameras without an ONVIF address have no events. Set CAMERA_ALARMS=0 to switch it off.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { OnvifEventStream, type OnvifAlarm } from '../../onvif/events.js';
import type { AppContext } from '../context.js';
import type { CameraAlarmPayload } from '../bus.js';
import type { CameraRepo } from '../inventory/camera-repo.js';

export type { CameraAlarmPayload };

/** Alarms kept as rows; 'other' topics are many and vendor-specific, so they are only logged at debug level. */
const RECORDED = new Set<OnvifAlarm['kind']>(['motion', 'tamper', 'video_loss']);

export class AlarmWatcher {
  private readonly log: Logger;
  private readonly streams = new Map<string, { stream: OnvifEventStream; fingerprint: string }>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private syncing: Promise<void> = Promise.resolve();
  /** a sync is queued and has not started: later triggers ride on it (bulk edits publish one message per camera) */
  private syncQueued = false;
  private stopped = false;
  /** one write at a time per camera, in the order the camera sent them */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly ctx: AppContext & { cameras: CameraRepo }, private readonly o: { resyncMs?: number; backoffMs?: number[] } = {}) {
    this.log = (ctx.logger as unknown as Logger).child({ module: 'alarms' });
  }

  /** Cameras being listened to, with the stream's state (status page, tests). */
  status(): Array<{ cameraId: string; state: string; reason: string | null }> {
    return [...this.streams].map(([cameraId, s]) => ({ cameraId, state: s.stream.state, reason: s.stream.reason }));
  }

  start(): void {
    const resync = () => {
      if (this.syncQueued) return;
      this.syncQueued = true;
      this.syncing = this.syncing
        .then(() => { this.syncQueued = false; return this.sync(); })
        .catch((err) => this.log.warn({ err }, 'camera alarm sync failed'));
    };
    this.unsubscribe = this.ctx.bus.subscribe('camera.changed', resync);
    const leases = this.ctx.cluster?.ingest;
    leases?.on('acquired', resync);
    leases?.on('lost', resync);
    this.timer = setInterval(resync, this.o.resyncMs ?? 30_000);
    this.timer.unref();
    resync();
    this.log.info('camera alarm listener started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.syncing;
    await Promise.all([...this.streams.values()].map((s) => s.stream.stop()));
    this.streams.clear();
    await Promise.all(this.writes.values());
  }

  /** Starts, restarts (address or credentials changed) and stops streams to match the cameras this node should hear. */
  private async sync(): Promise<void> {
    if (this.stopped) return;
    // a node with pull leases hears its leased cameras; one without (role all, a single node) hears every camera
    const leases = this.ctx.cluster?.ingest;
    const leased = leases ? leases.cameras() : null;
    const rows = (await this.ctx.db.query<{ id: string; onvif_url: string; credentials_enc: string | null }>(
      `SELECT id, onvif_url, credentials_enc FROM cameras WHERE onvif_url IS NOT NULL ${leased ? 'AND id = ANY($1::uuid[])' : ''}`,
      leased ? [leased] : [])).rows;
    const wanted = new Map(rows.map((r) => [r.id, createHash('sha256').update(`${r.onvif_url}\n${r.credentials_enc ?? ''}`).digest('hex')]));
    for (const [id, s] of this.streams) {
      if (wanted.get(id) !== s.fingerprint) {
        this.streams.delete(id);
        void s.stream.stop();
      }
    }
    for (const r of rows) {
      if (this.stopped || this.streams.has(r.id)) continue;
      const creds = await this.ctx.cameras.credentials(this.ctx.db, r.id);
      const stream = new OnvifEventStream({
        target: { xaddr: r.onvif_url, username: creds.username, password: creds.password },
        backoffMs: this.o.backoffMs,
        log: this.log.child({ camera: r.id }),
      });
      stream.on('alarm', (a: OnvifAlarm) => this.queue(r.id, () => this.record(r.id, a)));
      this.streams.set(r.id, { stream, fingerprint: wanted.get(r.id)! });
      stream.start();
    }
  }

  private queue(cameraId: string, fn: () => Promise<void>): void {
    const next = (this.writes.get(cameraId) ?? Promise.resolve()).then(fn).catch((err) => this.log.warn({ err, camera: cameraId }, 'could not record a camera alarm'));
    this.writes.set(cameraId, next);
    void next.finally(() => { if (this.writes.get(cameraId) === next) this.writes.delete(cameraId); });
  }

  /** Opens or closes the camera's alarm row of that kind; only real changes are pushed. */
  private async record(cameraId: string, a: OnvifAlarm): Promise<void> {
    if (!RECORDED.has(a.kind) || a.active === null) {
      this.log.debug({ camera: cameraId, topic: a.topic }, 'camera event without a recorded alarm kind');
      return;
    }
    const row = a.active
      ? (await this.ctx.db.query<{ id: number; started_at: Date }>(
        `INSERT INTO camera_alarms (camera_id, kind, topic, started_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (camera_id, kind) WHERE ended_at IS NULL DO NOTHING RETURNING id, started_at`, [cameraId, a.kind, a.topic, a.at])).rows[0]
      : (await this.ctx.db.query<{ id: number; started_at: Date }>(
        `UPDATE camera_alarms SET ended_at = greatest($3::timestamptz, started_at) WHERE camera_id = $1 AND kind = $2 AND ended_at IS NULL
         RETURNING id, started_at`, [cameraId, a.kind, a.at])).rows[0];
    if (!row) return; // already open / nothing open: the camera repeated its state (e.g. on resubscribing)
    const payload: CameraAlarmPayload = {
      cameraId, alarmId: Number(row.id), kind: a.kind, topic: a.topic, active: a.active,
      startedAt: new Date(row.started_at).toISOString(), endedAt: a.active ? null : a.at.toISOString(),
    };
    this.log.info({ camera: cameraId, kind: a.kind, active: a.active }, a.active ? 'camera alarm raised' : 'camera alarm cleared');
    this.ctx.bus.publish('camera.alarm', payload, cameraId);
  }
}
