/**
 * The fleet-health subsystem of a node: the HealthRecorder (camera.state → status history + camera status)
 * and the HealthChecker (low-rate probes of every camera). One per node, shared by the HTTP/1.1 and HTTP/2
 * apps built from the same context. main.ts starts it and stops it on shutdown:
 *
 *   const fleet = fleetFor(ctx); fleet.start(); ctx.onShutdown.push(() => fleet.stop());
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
    this.unsubscribe ??= this.ctx.bus.subscribe((msg) => {
      if (msg.topic !== 'camera.changed') return;
      const p = msg.payload as { action?: string; id?: string };
      if ((p.action === 'create' || p.action === 'update') && p.id) void this.checker.probeOne(p.id);
      else if (p.action === 'import') void this.checker.checkNow();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.checker.stop();
    await this.recorder.stop();
  }
}

const instances = new WeakMap<object, FleetHealth>();

/** This node's fleet-health subsystem (created on first use, started by main.ts or a test). */
export function fleetFor(ctx: AppContext, settings?: Partial<FleetSettings>): FleetHealth {
  let f = instances.get(ctx.bus);
  if (!f) {
    f = new FleetHealth(ctx, { ...fleetSettingsFromEnv(), ...settings });
    instances.set(ctx.bus, f);
  }
  return f;
}
