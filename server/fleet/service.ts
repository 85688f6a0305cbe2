/**
 * The fleet-health subsystem of a node: the HealthRecorder (camera.state → status history + camera status)
 * and the HealthChecker (low-rate probes of every camera). One per node (server/node.ts creates it and decides
 * whether this node probes or only records), shared by the HTTP/1.1 and HTTP/2 apps.
 */
import type { AppContext } from '../context.js';
import { CameraRepo } from '../inventory/camera-repo.js';
import { deriveKey } from '../secrets.js';
import { HealthRecorder } from './health-recorder.js';
import { HealthChecker } from './health-checker.js';
import { envNumber as num } from '../config.js';

export interface FleetSettings {
  /** each camera is probed this often; 0 = no periodic probes */
  checkIntervalMs: number;
  checkConcurrency: number;
  checkTimeoutMs: number;
  /** flapping: at least this many online↔offline transitions ... */
  flapTransitions: number;
  /** ... within this window */
  flapWindowMin: number;
  /** clock drift worth a technician's attention (absolute, ms) */
  driftWarnMs: number;
  historyDays: number;
  flushMs: number;
}

/** FLEET_* environment variables (all optional). */
export function fleetSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FleetSettings {
  return {
    checkIntervalMs: num(env, 'FLEET_CHECK_INTERVAL_S', 300, 0, 86_400) * 1000,
    checkConcurrency: num(env, 'FLEET_CHECK_CONCURRENCY', 8, 1, 256),
    checkTimeoutMs: num(env, 'FLEET_CHECK_TIMEOUT_S', 4, 0.5, 60) * 1000,
    flapTransitions: num(env, 'FLEET_FLAP_TRANSITIONS', 4, 2, 1000),
    flapWindowMin: num(env, 'FLEET_FLAP_WINDOW_MIN', 60, 1, 7 * 24 * 60),
    driftWarnMs: num(env, 'FLEET_DRIFT_WARN_S', 5, 0, 86_400) * 1000,
    historyDays: num(env, 'FLEET_HISTORY_DAYS', 30, 1, 3650),
    flushMs: num(env, 'FLEET_FLUSH_MS', 1000, 50, 60_000),
  };
}

export class FleetHealth {
  readonly recorder: HealthRecorder;
  readonly checker: HealthChecker;
  readonly cameras: CameraRepo;

  constructor(readonly ctx: AppContext, readonly settings: FleetSettings) {
    this.cameras = new CameraRepo(deriveKey(ctx.secretKey, 'camera-credentials'));
    this.recorder = new HealthRecorder({
      db: ctx.db, cameras: this.cameras, bus: ctx.bus, logger: ctx.logger, flushMs: settings.flushMs, retentionDays: settings.historyDays,
    });
    this.checker = new HealthChecker({
      db: ctx.db, cameras: this.cameras, recorder: this.recorder, logger: ctx.logger, intervalMs: settings.checkIntervalMs,
      concurrency: settings.checkConcurrency, timeoutMs: settings.checkTimeoutMs,
    });
  }

  private unsubscribe: (() => void) | null = null;

  start(): void {
    this.recorder.start();
    this.checker.start();
    this.probeChanges();
  }

  /** A camera added or edited (its addresses may have changed) is probed at once, an import's cameras in one pass. */
  probeChanges(): void {
    this.unsubscribe ??= this.ctx.bus.subscribe('camera.changed', ({ payload }) => {
      if (payload.kind !== 'created' && payload.kind !== 'updated') return;
      if (payload.ids.length === 1) void this.checker.probeOne(payload.ids[0]);
      else void this.checker.checkNow(); // an import: one pass (a pass already running is followed by one more)
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.checker.stop();
    await this.recorder.stop();
  }
}
