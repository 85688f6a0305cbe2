/**
 * The node's analytics subsystem: one engine per node, fed by ingest's frame tap (the camera's existing pull),
 * rules from the database (loaded at start and after every change), candidate events persisted in `events` and
 * pushed on the bus (`event.candidate`, with cameraId so that restricted cameras are filtered by the WebSocket).
 *
 * Settings: ANALYTICS_CONFIG (JSON, validated strictly by parseAnalyticsConfig), MODELS_DIR (weights; models/ is
 * searched too), EVIDENCE_DIR and EVIDENCE_RETENTION_DAYS (shortcuts for those keys), ANALYTICS_ENABLED=0 to switch
 * the engine off on this node. Missing weights never stop the node:
 * GET /api/analytics/status says what is missing and where it was looked for.
 */
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineNotice } from './engine-notice.js';
import type { Logger } from 'pino';
import {
  createAnalytics, eventTypesFromRows, parseAnalyticsConfig, ruleInputFromRow, validateRule,
  type AnalyticsConfig, type AnalyticsEngine, type CandidateEvent, type EventTypeRow, type ModelStore, type Rule, type RuleContext, type RuleRow,
} from '../../analytics/index.js';
import { FrameTap, type TapRate } from '../../ingest/frame-tap.js';
import type { IngestService } from '../../ingest/service.js';
import { envNumber } from '../config.js';
import { EvidenceRetention } from './evidence-retention.js';
import { regionsInForce } from '../learning/regions.js';
import type { AppContext } from '../context.js';
import * as events from '../review/events-repo.js';

export const projectRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export type AnalyticsState = 'disabled' | 'starting' | 'ready' | 'degraded' | 'error';

/** Reads the analytics settings of this node from the environment; throws a ValidationError with paths. */
export function analyticsConfigFromEnv(env: NodeJS.ProcessEnv, dataDir: string): AnalyticsConfig {
  let raw: Record<string, unknown> = {};
  if (env.ANALYTICS_CONFIG) {
    try {
      raw = JSON.parse(env.ANALYTICS_CONFIG) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`ANALYTICS_CONFIG is not JSON: ${(err as Error).message}`);
    }
  }
  const cfg = parseAnalyticsConfig({
    ...raw,
    ...(env.MODELS_DIR && raw.modelsDir === undefined ? { modelsDir: env.MODELS_DIR } : {}),
    ...(env.EVIDENCE_DIR && raw.evidenceDir === undefined ? { evidenceDir: env.EVIDENCE_DIR } : {}),
    ...(env.EVIDENCE_RETENTION_DAYS !== undefined && raw.evidenceRetentionDays === undefined
      ? { evidenceRetentionDays: Math.round(envNumber(env, 'EVIDENCE_RETENTION_DAYS', 30, 0, 3650)) } : {}),
    ...(env.ANALYTICS_ENABLED !== undefined && raw.enabled === undefined ? { enabled: !['0', 'false', 'no', 'off'].includes(env.ANALYTICS_ENABLED.toLowerCase()) } : {}),
  });
  // evidence lives with the node's data unless configured elsewhere (a cluster shares one evidence volume)
  if (raw.evidenceDir === undefined && !env.EVIDENCE_DIR) cfg.evidenceDir = join(dataDir, 'evidence');
  else if (!isAbsolute(cfg.evidenceDir)) cfg.evidenceDir = join(projectRoot, cfg.evidenceDir);
  return cfg;
}

interface CameraRow {
  id: string;
  grid_code: string | null;
  lat: number | null;
  lng: number | null;
  address: string | null;
  name: string;
}

export class AnalyticsService {
  readonly config: AnalyticsConfig;
  readonly tap: FrameTap | null;
  engine: AnalyticsEngine | null = null;
  models: ModelStore | null = null;
  evidenceDir: string;
  /** A city's uploaded models: $DATA_DIR/models (server/models/routes.ts writes there). */
  readonly uploadsDir: string;
  state: AnalyticsState = 'starting';
  message: string | null = null;
  /** rules as the engine runs them, per camera */
  private rules = new Map<string, Rule[]>();
  private eventTypeKeys = new Set<string>();
  private readonly log: Logger;
  private stopped = false;
  private unsubscribe?: () => void;
  /** rejections per rule still within their cooldown (re-applied when a rule is reloaded) */
  private readonly suppressions = new Map<string, Array<{ until: number; box: { x1: number; y1: number; x2: number; y2: number } | null }>>();
  private writes: Promise<unknown> = Promise.resolve();
  retention: EvidenceRetention | null = null;
  /** wall-clock time a stay was first seen → when its candidate reached the database (latency numbers) */
  readonly latencies: number[] = [];

  constructor(private readonly ctx: AppContext, private readonly ingest: IngestService | null, env: NodeJS.ProcessEnv = process.env) {
    this.log = (ctx.logger as unknown as Logger).child({ module: 'analytics' });
    this.config = analyticsConfigFromEnv(env, ctx.config.dataDir);
    this.evidenceDir = this.config.evidenceDir;
    this.uploadsDir = join(ctx.config.dataDir, 'models');
    const rate: TapRate = this.config.sampling.mode === 'keyframes' ? { mode: 'keyframes' } : { mode: 'fps', fps: this.config.sampling.fps };
    this.tap = ingest ? new FrameTap({ manager: ingest.manager, ffmpegPath: ingest.ffmpegPath, logger: ctx.logger, rate }) : null;
    if (!this.config.enabled) {
      this.state = 'disabled';
      this.message = 'analytics is switched off on this node (ANALYTICS_ENABLED / ANALYTICS_CONFIG.enabled)';
    } else if (!ingest) {
      this.state = 'disabled';
      this.message = `this node (role ${ctx.config.role}) serves the API only; the engine runs on nodes with role all or analytics`;
    }
  }

  /** What validateRule needs: the classification's keys and the classes of each model. */
  ruleContext(): RuleContext {
    return {
      eventTypes: this.eventTypeKeys,
      classesOf: (id) => this.models?.manifest(id)?.classes,
      defaultModel: this.config.defaultModel,
    };
  }

  async loadEventTypes(): Promise<void> {
    const rows = (await this.ctx.db.query<EventTypeRow>('SELECT key, code, name_zh, name_en, enabled FROM event_types')).rows;
    const types = eventTypesFromRows(rows);
    this.eventTypeKeys = new Set(types.keys());
    this.engine?.setEventTypes(types);
  }

  async start(): Promise<void> {
    await this.loadEventTypes();
    // where evidence is written (role all / analytics), old false alarms' evidence is swept
    if (this.ingest) {
      this.retention = new EvidenceRetention({ db: this.ctx.db, evidenceDir: this.evidenceDir, days: this.config.evidenceRetentionDays, logger: this.log });
      this.retention.start();
    }
    // changes made through another node's API (rules, classification, rejections) arrive on the bus bridge;
    // this node's own changes are applied directly by the routes
    this.unsubscribe = this.ctx.bus.subscribe((msg) => {
      if (this.stopped) return;
      if (msg.topic === 'camera.changed') {
        // a moved or deleted camera: new location on its events, or its rules (cascaded away) stop running
        for (const id of msg.payload.ids) {
          if (this.rules.has(id)) void this.reloadRules(id).catch((err) => this.log.warn({ err }, 'rule reload failed'));
        }
        return;
      }
      if (!msg.origin) return;
      if (msg.topic === 'analytics.rules') {
        const p = msg.payload;
        void (async () => {
          if (p.eventTypes) await this.loadEventTypes();
          await this.reloadRules(p.cameraId ?? undefined);
        })().catch((err) => this.log.warn({ err }, 'rule reload failed'));
      } else if (msg.topic === 'analytics.suppress' && msg.payload.ruleId && msg.payload.cameraId) {
        this.suppress(msg.payload.ruleId, msg.payload.cameraId, msg.payload.box ?? null);
      }
    });
    if (!this.config.enabled || !this.ingest) {
      // rules can still be validated (classes from the manifests)
      await this.initModelsOnly();
      return;
    }
    const { engine, models, evidenceDir } = await createAnalytics({
      config: this.config,
      // the engine and model store name their own modules (analytics, analytics.models)
      logger: this.ctx.logger as unknown as Logger,
      projectRoot,
      uploadsDir: this.uploadsDir,
      eventTypes: eventTypesFromRows((await this.ctx.db.query<EventTypeRow>('SELECT key, code, name_zh, name_en, enabled FROM event_types')).rows),
      clipSource: this.tap ? (cameraId, ts) => this.tap!.clip(cameraId, ts) : undefined,
    });
    this.engine = engine;
    this.models = models;
    this.evidenceDir = evidenceDir;
    engine.on('error', (err) => this.log.error({ err }, 'analytics engine error'));
    engine.on('model.progress', (p) => this.ctx.bus.publish('analytics.progress', p));
    engine.on('candidate.opened', (e) => this.queue(() => this.onOpened(e)));
    engine.on('candidate.updated', (e) => this.queue(() => this.onUpdated(e)));
    engine.on('candidate.closed', (e) => this.queue(() => this.onClosed(e)));
    engine.on('candidate.evidence', (e) => this.queue(() => this.onEvidence(e)));
    this.tap?.onFrame((f) => {
      void engine.pushFrame(f).catch((err) => this.log.warn({ err, camera: f.cameraId }, 'frame analysis failed'));
    });
    await this.reloadRules();
    // warm-up in the background: the rest of the node is usable meanwhile, progress goes out on the bus
    void engine.start().then(
      (states) => {
        if (this.stopped) return;
        const def = states.find((s) => s.id === this.config.defaultModel);
        this.state = def?.status === 'ready' ? 'ready' : 'degraded';
        this.message = def?.status === 'ready' ? null : `default model ${this.config.defaultModel} is ${def?.status ?? 'unknown'}: ${def?.message ?? 'no manifest'}`;
        if (this.state !== 'ready') this.log.warn({ model: this.config.defaultModel, status: def?.status, why: def?.message }, 'analytics runs without its default model');
        this.ctx.bus.publish('analytics.progress', { state: this.state, message: this.message });
      },
      (err) => {
        this.state = 'error';
        this.message = (err as Error).message;
        this.log.error({ err }, 'analytics engine failed to start');
      },
    );
  }

  private async initModelsOnly(): Promise<void> {
    const { models } = await createAnalytics({ config: this.config, logger: this.ctx.logger as unknown as Logger, projectRoot, uploadsDir: this.uploadsDir });
    this.models = models;
  }

  /** Reloads a camera's rules (or all) from the database into the engine and the frame tap. */
  async reloadRules(cameraId?: string): Promise<void> {
    const rows = (await this.ctx.db.query<RuleRow>(
      cameraId ? 'SELECT * FROM rules WHERE camera_id = $1' : 'SELECT * FROM rules', cameraId ? [cameraId] : [])).rows;
    const byCamera = new Map<string, Rule[]>();
    if (cameraId) byCamera.set(cameraId, []);
    else for (const id of this.rules.keys()) byCamera.set(id, []);
    for (const row of rows) {
      const r = validateRule(ruleInputFromRow(row), this.ruleContext());
      if (!r.ok) {
        this.log.warn({ rule: row.id, errors: r.errors }, 'stored rule no longer valid: not run');
        continue;
      }
      if (!byCamera.has(row.camera_id)) byCamera.set(row.camera_id, []);
      byCamera.get(row.camera_id)!.push(r.rule);
    }
    const cams = (await this.ctx.db.query<CameraRow>('SELECT id, name, grid_code, lat, lng, address FROM cameras WHERE id = ANY($1::uuid[])', [[...byCamera.keys()]])).rows;
    const camById = new Map(cams.map((c) => [c.id, c]));
    const regions = this.engine ? await regionsInForce(this.ctx.db, [...byCamera.keys()]) : new Map();
    for (const [id, rules] of byCamera) {
      const enabled = rules.filter((r) => r.enabled);
      const cam = camById.get(id);
      if (!cam || enabled.length === 0) {
        this.rules.delete(id);
        this.engine?.setRules(id, []);
        this.engine?.removeCamera(id);
        this.tap?.untap(id);
        continue;
      }
      this.rules.set(id, enabled);
      if (this.engine && !this.stopped) {
        this.engine.setCamera({ cameraId: id, name: cam.name, gridCode: cam.grid_code ?? undefined, lat: cam.lat ?? undefined, lng: cam.lng ?? undefined, address: cam.address ?? undefined });
        this.engine.setRules(id, enabled);
        for (const r of enabled) this.engine.setSuppressionRegions(r.id, regions.get(r.id) ?? []);
        this.reapplySuppressions(enabled);
        this.tap?.tap(id);
      }
    }
  }

  rulesOf(cameraId: string): Rule[] {
    return this.rules.get(cameraId) ?? [];
  }

  status(): Record<string, unknown> {
    const models = this.models?.list() ?? [];
    const notice = engineNotice({
      state: this.state,
      engineExpectedHere: this.ctx.config.role === 'all' || this.ctx.config.role === 'analytics',
      defaultModel: this.config.defaultModel,
      defaultModelStatus: models.find((m) => m.id === this.config.defaultModel)?.status,
    });
    return {
      state: this.state,
      message: this.message,
      /** for people: why detection is not running, Chinese and English; null when it is */
      notice,
      enabled: this.config.enabled,
      defaultModel: this.config.defaultModel,
      sampling: this.config.sampling,
      // where the weights lie on the server is the log's business, not the console's
      models: models.map(({ path: _path, ...m }) => m),
      engine: this.engine ? { ...this.engine.status(), models: this.engine.status().models.map(({ path: _path, ...m }) => m) } : null,
      frames: this.tap?.stats() ?? [],
    };
  }

  /** A reviewer rejected an event: no new candidate from this rule in the same place within its cooldown. */
  suppress(ruleId: string, cameraId: string, box: { x1: number; y1: number; x2: number; y2: number } | null): void {
    const rule = this.rulesOf(cameraId).find((r) => r.id === ruleId);
    if (!rule || !this.engine) return;
    const until = Date.now() + rule.cooldownSeconds * 1000;
    this.engine.suppress(ruleId, until, box ?? undefined);
    const list = (this.suppressions.get(ruleId) ?? []).filter((x) => x.until > Date.now());
    list.push({ until, box });
    this.suppressions.set(ruleId, list);
  }

  /** An edited rule starts with fresh stays in the engine: rejections still within their cooldown carry over. */
  private reapplySuppressions(rules: Rule[]): void {
    const now = Date.now();
    for (const r of rules) {
      const list = (this.suppressions.get(r.id) ?? []).filter((x) => x.until > now);
      if (list.length) this.suppressions.set(r.id, list);
      else this.suppressions.delete(r.id);
      for (const x of list) this.engine?.suppress(r.id, x.until, x.box ?? undefined);
    }
  }

  /** Waits for queued event writes (tests, shutdown). */
  async flush(): Promise<void> {
    await this.writes;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.tap?.stop();
    await this.retention?.stop();
    await this.engine?.stop();
    await this.flush();
  }

  private queue(fn: () => Promise<void>): void {
    // one write at a time, in event order (an update never overtakes its insert)
    this.writes = this.writes.then(fn).catch((err) => {
      if (!this.stopped) this.log.error({ err }, 'could not persist a candidate event');
    });
  }

  /**
   * A new candidate goes out as `event.candidate` (the wall's alarm tile and the review desk listen: one push per
   * stay); its updates, closing and late evidence as `event.updated`. Flat payloads, cameraId for the visibility filter.
   */
  private push(e: CandidateEvent | { id: string; cameraId: string }, kind: 'opened' | 'updated' | 'closed' | 'evidence'): void {
    const c = e as Partial<CandidateEvent> & { id: string; cameraId: string };
    const payload = {
      kind, id: c.id, cameraId: c.cameraId, ruleId: c.ruleId, eventType: c.eventType, eventCode: c.eventCode,
      title: c.eventName ?? undefined, label: c.label, score: c.score, count: c.count, box: c.box,
      firstSeen: c.firstSeen, lastSeen: c.lastSeen, closedAt: c.closedAt, evidence: c.evidence,
    };
    this.ctx.bus.publish(kind === 'opened' ? 'event.candidate' : 'event.updated', payload, c.cameraId);
  }

  private async onOpened(e: CandidateEvent): Promise<void> {
    await events.insertCandidate(this.ctx.db, e);
    this.latencies.push(Date.now() - e.openedAt);
    this.log.info({ event: e.id, rule: e.ruleId, camera: e.cameraId, type: e.eventType, score: e.score }, 'candidate event');
    this.push(e, 'opened');
  }

  private async onUpdated(e: CandidateEvent): Promise<void> {
    await events.updateCandidate(this.ctx.db, e);
    this.push(e, 'updated');
  }

  private async onClosed(e: CandidateEvent): Promise<void> {
    await events.closeCandidate(this.ctx.db, e);
    this.push(e, 'closed');
  }

  private async onEvidence(e: { id: string; cameraId: string; evidence: { annotatedJpeg?: string; cleanJpeg?: string; clip?: string } }): Promise<void> {
    await events.addEvidence(this.ctx.db, e.id, e.evidence);
    this.push({ id: e.id, cameraId: e.cameraId }, 'evidence');
  }
}
