/**
 * HealthChecker: the low-rate probe that keeps the online rate honest for cameras nobody is watching.
 * Every intervalMs each camera gets one light probe (ONVIF GetSystemDateAndTime: reachability and clock drift;
 * RTSP OPTIONS for cameras without ONVIF), a few at a time. Results go through HealthRecorder.recordProbe,
 * which leaves the camera's status alone while an ingest session speaks for it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/db.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import type { HealthRecorder } from './health-recorder.js';
import { probeCamera, toOutcome } from './probe.js';

export interface HealthCheckerOptions {
  db: Db;
  cameras: CameraRepo;
  recorder: HealthRecorder;
  logger: FastifyBaseLogger;
  /** each camera is probed this often (ms) */
  intervalMs: number;
  concurrency?: number;
  timeoutMs?: number;
  /** cameras probed per tick at most */
  batchSize?: number;
  /** first tick after start (ms) */
  initialDelayMs?: number;
}

export class HealthChecker {
  private readonly log: FastifyBaseLogger;
  private timer: NodeJS.Timeout | null = null;
  private firstTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun: Promise<void> | null = null;
  private stopped = true;
  private closing = false;
  private readonly single = new Map<string, Promise<void>>();

  constructor(private readonly o: HealthCheckerOptions) {
    this.log = o.logger.child({ module: 'fleet.checker' });
  }

  start(): void {
    if (!this.stopped || this.o.intervalMs <= 0) return;
    this.stopped = false;
    this.closing = false;
    const tickMs = Math.max(1000, Math.min(this.o.intervalMs, 60_000));
    this.firstTimer = setTimeout(() => this.tick(), this.o.initialDelayMs ?? 10_000);
    this.firstTimer.unref();
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
    this.log.info({ intervalS: this.o.intervalMs / 1000, concurrency: this.o.concurrency ?? 8 }, 'health checker started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    if (this.firstTimer) clearTimeout(this.firstTimer);
    this.timer = this.firstTimer = null;
    await this.running;
    await Promise.all([...this.single.values()]);
  }

  private tick(): void {
    if (!this.stopped) void this.checkNow();
  }

  /**
   * One pass over the cameras that are due. Asked while a pass runs, one more pass follows it: cameras added meanwhile
   * (the demo fleet registering during the first pass) would otherwise wait for the next tick.
   */
  checkNow(): Promise<void> {
    if (this.running) {
      this.rerun ??= this.running.then(() => { this.rerun = null; return this.closing ? undefined : this.checkNow(); });
      return this.rerun;
    }
    this.running = this.pass().catch((err) => this.log.warn({ err }, 'health check pass failed')).finally(() => { this.running = null; });
    return this.running;
  }

  /**
   * Probes one camera now (it was just added or its addresses changed): a new camera shows reachable or offline
   * at once instead of "unknown" until the next pass. Concurrent asks for one camera share one probe.
   */
  probeOne(cameraId: string): Promise<void> {
    const known = this.single.get(cameraId);
    if (known) return known;
    const run = (async () => {
      const cam = (await this.o.db.query<{ id: string; onvifUrl: string | null; rtspMain: string | null; rtspSub: string | null }>(
        `SELECT c.id, c.onvif_url AS "onvifUrl", c.rtsp_main AS "rtspMain", c.rtsp_sub AS "rtspSub" FROM cameras c WHERE c.id = $1`, [cameraId])).rows[0];
      if (!cam || this.closing) return;
      await this.o.db.query(
        `INSERT INTO camera_health (camera_id, checked_at, method, reachable, error) VALUES ($1, now(), 'none', false, 'first health check in progress')
         ON CONFLICT (camera_id) DO UPDATE SET checked_at = now()`, [cameraId]);
      const creds = await this.o.cameras.credentials(this.o.db, cam.id);
      const r = await probeCamera(cam, creds, { full: false, timeoutMs: this.o.timeoutMs ?? 4000 });
      if (!this.closing) await this.o.recorder.recordProbe(cam.id, toOutcome(r, false));
    })().catch((err) => this.log.warn({ err, camera: cameraId }, 'probe of a new or changed camera failed'))
      .finally(() => this.single.delete(cameraId));
    this.single.set(cameraId, run);
    return run;
  }

  private async pass(): Promise<void> {
    // Claim the due cameras (bump checked_at) in one statement, so that nodes checking at the same time split
    // the work instead of probing every camera twice; never-checked cameras get a placeholder row.
    const due = await this.o.db.query<{ id: string; onvifUrl: string | null; rtspMain: string | null; rtspSub: string | null }>(
      `WITH due AS (
         SELECT c.id FROM cameras c LEFT JOIN camera_health h ON h.camera_id = c.id
          WHERE (h.checked_at IS NULL OR h.checked_at < now() - make_interval(secs => $1::double precision))
            -- GB/T 28181 channels have no URL to probe: their keepalives and catalog status are their health
            AND NOT EXISTS (SELECT 1 FROM gb_channels g WHERE g.camera_id = c.id)
          ORDER BY h.checked_at NULLS FIRST LIMIT $2
          FOR UPDATE OF c SKIP LOCKED
       ), claimed AS (
         INSERT INTO camera_health (camera_id, checked_at, method, reachable, error)
         SELECT id, now(), 'none', false, 'first health check in progress' FROM due
         ON CONFLICT (camera_id) DO UPDATE SET checked_at = now()
         RETURNING camera_id
       )
       SELECT c.id, c.onvif_url AS "onvifUrl", c.rtsp_main AS "rtspMain", c.rtsp_sub AS "rtspSub"
         FROM claimed JOIN cameras c ON c.id = claimed.camera_id`,
      [Math.max(1, this.o.intervalMs / 1000 - 1), this.o.batchSize ?? 500]);
    if (!due.rows.length) return;
    const t0 = Date.now();
    let next = 0;
    let reachable = 0;
    const worker = async () => {
      while (!this.closing && next < due.rows.length) {
        const cam = due.rows[next++];
        try {
          const creds = await this.o.cameras.credentials(this.o.db, cam.id);
          const r = await probeCamera(cam, creds, { full: false, timeoutMs: this.o.timeoutMs ?? 4000 });
          if (r.reachable) reachable++;
          await this.o.recorder.recordProbe(cam.id, toOutcome(r, false));
        } catch (err) {
          this.log.warn({ err, camera: cam.id }, 'health probe failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, due.rows.length) }, worker));
    this.log.info({ probed: due.rows.length, reachable, ms: Date.now() - t0 }, 'health check pass');
  }
}
