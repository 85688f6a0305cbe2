import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { InferenceBatcher, type BatcherOptions } from './batcher.js';
import type { Detector } from './detector.js';
import { evidenceCaption } from './caption.js';
import { EvidenceWriter, type EvidencePaths, type LabelledBox } from './evidence.js';
import { DEFAULT_FOREGROUND_OPTIONS, StationaryForeground, type ForegroundOptions } from './foreground.js';
import type { ModelState, ModelStore, WarmupProgress } from './model-store.js';
import { DEFAULT_MOTION_OPTIONS, greyThumb, MotionGate, type GreyThumb, type MotionGateOptions } from './motion.js';
import { nms } from './nms.js';
import { clampRect, decodeImage, prepareInput, toFrameBox, type Rect } from './preprocess.js';
import type { Rule } from './rules.js';
import { isValidTimeZone, scheduleActive } from './schedule.js';
import { StayManager, type Stay, type StayChange, type StayOptions } from './stays.js';
import { DEFAULT_TRACKER_OPTIONS, IouTracker, type Track, type TrackerOptions } from './tracker.js';
import { boxArea, type Box, type Detection, type Polygon, type RgbFrame } from './types.js';
import { boxInZone, polygonBounds, toPixels } from './zones.js';

/** One row of the classification table, as the engine needs it. */
export interface EventTypeInfo {
  key: string;
  /** Code of the edition in force (e.g. 09009). */
  code: string;
  nameZh?: string;
  nameEn?: string;
}

/** Where a camera is; copied onto every candidate it raises. */
export interface CameraContext {
  cameraId: string;
  /** the camera's name, for the evidence caption */
  name?: string | null;
  gridCode?: string | null;
  lat?: number | null;
  lng?: number | null;
  address?: string | null;
}

/** What the engine reports; timestamps are ms since the epoch, boxes normalised 0..1 to the frame. */
export interface CandidateEvent {
  id: string;
  status: 'open' | 'closed';
  ruleId: string;
  cameraId: string;
  eventType: string;
  eventCode: string | null;
  eventName: string | null;
  detector: 'model' | 'foreground';
  model: string | null;
  label: string;
  score: number;
  count: number;
  box: Box;
  trackIds: number[];
  /** When the object arrived (its stationary period began). */
  firstSeen: number;
  /** When the candidate was raised (dwell reached). */
  openedAt: number;
  lastSeen: number;
  closedAt: number | null;
  dwellSeconds: number;
  gridCode: string | null;
  lat: number | null;
  lng: number | null;
  address: string | null;
  evidence: EvidencePaths;
}

export interface AnalyticsEngineOptions {
  logger: Logger;
  models: ModelStore;
  /** Model used by rules that name none. */
  defaultModel: string;
  eventTypes?: Map<string, EventTypeInfo>;
  evidence?: EvidenceWriter;
  /** Time zone of rule schedules (default Asia/Shanghai). */
  timeZone?: string;
  /** false disables the motion gate (inference on every sampled frame). */
  motionGate?: boolean | Partial<MotionGateOptions>;
  batch?: Partial<BatcherOptions>;
  tracker?: Partial<TrackerOptions>;
  foreground?: Partial<ForegroundOptions>;
  stays?: Partial<Pick<StayOptions, 'graceSeconds' | 'regionIou' | 'updateEverySeconds'>>;
  /** Crop margin around a zone's bounding box, as a fraction of its size (objects stick out of ground zones). */
  cropMargin?: number;
  /** Smallest crop side in pixels, so that a tiny zone is not blown up more than ~2x. */
  minCropSide?: number;
}

export interface PushResult {
  status: 'processed' | 'busy' | 'unknown-camera';
  /** Model inferences run for this frame. */
  inferences: number;
  /** Rules skipped by the motion gate. */
  gated: number;
}

export interface EngineEvents {
  'candidate.opened': [CandidateEvent];
  'candidate.updated': [CandidateEvent];
  'candidate.closed': [CandidateEvent];
  /** Evidence that arrived after the candidate was reported (the clip); may come after 'closed'. */
  'candidate.evidence': [{ id: string; ruleId: string; cameraId: string; evidence: EvidencePaths }];
  'model.progress': [WarmupProgress];
  error: [Error];
}

interface RuleRuntime {
  rule: Rule;
  signature: string;
  tracker: IouTracker;
  stays: StayManager;
  /** Pixel geometry for the current frame size. */
  size?: { width: number; height: number; zonePx: Polygon; crop: Rect | null; region: Box; foreground?: StationaryForeground };
  /** Evidence of open stays, by stay id. */
  evidence: Map<string, EvidencePaths>;
  /** Frame size the stays' suppression areas were last converted for. */
  areasFor?: string;
}

/** A suppression region as the server stores it: normalised box, end in ms (null = permanent). */
export interface SuppressionRegion {
  box: Box;
  until: number | null;
}

interface CameraRuntime {
  ctx: CameraContext;
  rules: Map<string, RuleRuntime>;
  gate: MotionGate | null;
  busy: boolean;
  lastTs: number;
}

/**
 * The analytics engine: per camera, sampled frames come in (pushFrame), zones are gated by motion,
 * cropped and letterboxed, batched into the detector, tracked, and turned into candidate events by each
 * rule's stay logic. It touches no database: the server listens to the candidate.* events and persists.
 */
export class AnalyticsEngine extends EventEmitter<EngineEvents> {
  private readonly log: Logger;
  private readonly cameras = new Map<string, CameraRuntime>();
  private readonly batchers = new Map<string, InferenceBatcher>();
  private eventTypes: Map<string, EventTypeInfo>;
  private readonly timeZone: string;
  private readonly motionOptions: MotionGateOptions | null;
  private stopped = false;
  readonly counters = { frames: 0, busy: 0, inferences: 0, gated: 0 };

  constructor(private readonly opts: AnalyticsEngineOptions) {
    super();
    this.log = opts.logger.child({ module: 'analytics' });
    this.eventTypes = opts.eventTypes ?? new Map();
    this.timeZone = opts.timeZone ?? 'Asia/Shanghai';
    if (!isValidTimeZone(this.timeZone)) throw new Error(`unknown time zone ${this.timeZone}`);
    this.motionOptions = opts.motionGate === false ? null : { ...DEFAULT_MOTION_OPTIONS, ...(typeof opts.motionGate === 'object' ? opts.motionGate : {}) };
  }

  /** Loads and warms the default model (progress on 'model.progress'); analytics without it still runs foreground rules. */
  async start(): Promise<ModelState[]> {
    await this.ensureModel(this.opts.defaultModel);
    return this.opts.models.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const b of this.batchers.values()) b.stop();
    this.batchers.clear();
    this.cameras.clear();
  }

  /** The classification in force (reload after an admin edits the table). */
  setEventTypes(types: Map<string, EventTypeInfo>): void {
    this.eventTypes = types;
  }

  /** Adds or updates a camera's context (grid, location). */
  setCamera(ctx: CameraContext): void {
    const cam = this.cameras.get(ctx.cameraId);
    if (cam) cam.ctx = ctx;
    else this.cameras.set(ctx.cameraId, { ctx, rules: new Map(), gate: this.motionOptions ? new MotionGate(this.motionOptions) : null, busy: false, lastTs: 0 });
  }

  removeCamera(cameraId: string): void {
    const cam = this.cameras.get(cameraId);
    if (!cam) return;
    this.replaceRules(cam, []);
    this.cameras.delete(cameraId);
  }

  /**
   * Replaces a camera's rules (already validated with validateRule). Unchanged rules keep their trackers
   * and open candidates; changed or removed ones close theirs.
   */
  setRules(cameraId: string, rules: Rule[]): void {
    let cam = this.cameras.get(cameraId);
    if (!cam) {
      this.setCamera({ cameraId });
      cam = this.cameras.get(cameraId)!;
    }
    for (const r of rules) if (r.cameraId !== cameraId) throw new Error(`rule ${r.id} belongs to camera ${r.cameraId}, not ${cameraId}`);
    this.replaceRules(cam, rules);
    for (const r of rules) if (r.detector === 'model' && r.enabled) this.loading.push(this.ensureModel(r.model ?? this.opts.defaultModel));
  }

  /**
   * Hot swap: a model was re-registered in the store (a city's upload under the same id). The engine drops its
   * session and batcher and loads the new weights; rules keep their trackers and stays. Frames in the meantime skip
   * inference for that model's rules (as while any model loads).
   */
  async reloadModel(id: string): Promise<void> {
    this.detectors.delete(id);
    this.batchers.get(id)?.stop();
    this.batchers.delete(id);
    await this.ensureModel(id);
  }

  /** The manifest of the session the engine runs for a model id right now (null while none is loaded). */
  loadedModel(id: string): Detector['manifest'] | null {
    return this.detectors.get(id)?.manifest ?? null;
  }

  /** Resolves once the models the rules named so far are loaded (or known to be unavailable): replays start after it. */
  async modelsSettled(): Promise<void> {
    const pending = this.loading.splice(0);
    await Promise.allSettled(pending);
  }

  private readonly loading: Promise<void>[] = [];

  /**
   * After a reviewer rejects a candidate: no candidate of this rule in `region` (normalised box, e.g. the
   * rejected event's box; whole rule when omitted) before `until` (ms). The open stay is not reported again.
   */
  suppress(ruleId: string, until: number, region?: Box): boolean {
    for (const cam of this.cameras.values()) {
      const rt = cam.rules.get(ruleId);
      if (!rt) continue;
      const px = region && rt.size ? { x1: region.x1 * rt.size.width, y1: region.y1 * rt.size.height, x2: region.x2 * rt.size.width, y2: region.y2 * rt.size.height } : null;
      rt.stays.suppress(until, px);
      return true;
    }
    return false;
  }

  /**
   * Standing suppression regions of a rule (learnt from rejections such as "permanent object", edited by people):
   * no candidate of the rule where an object stands inside one while it is in force. Replaces the rule's list;
   * kept across rule edits.
   */
  setSuppressionRegions(ruleId: string, regions: SuppressionRegion[]): void {
    if (regions.length) this.regions.set(ruleId, regions.map((r) => ({ box: { ...r.box }, until: r.until })));
    else this.regions.delete(ruleId);
    for (const cam of this.cameras.values()) {
      const rt = cam.rules.get(ruleId);
      if (rt) rt.areasFor = undefined;
    }
  }

  private readonly regions = new Map<string, SuppressionRegion[]>();

  /** The regions a rule runs with (status, tests). */
  suppressionRegions(ruleId: string): SuppressionRegion[] {
    return (this.regions.get(ruleId) ?? []).map((r) => ({ box: { ...r.box }, until: r.until }));
  }

  private applyAreas(rt: RuleRuntime): void {
    const size = rt.size!;
    const key = `${size.width}x${size.height}`;
    if (rt.areasFor === key) return;
    rt.areasFor = key;
    const list = this.regions.get(rt.rule.id) ?? [];
    rt.stays.setAreas(list.map((r) => ({ box: { x1: r.box.x1 * size.width, y1: r.box.y1 * size.height, x2: r.box.x2 * size.width, y2: r.box.y2 * size.height }, until: r.until })));
  }

  modelStates(): ModelState[] {
    return this.opts.models.list();
  }

  /** For the server's status/metrics endpoint. */
  status(): { models: ModelState[]; providers: string[]; cameras: number; rules: number; openCandidates: number; counters: AnalyticsEngine['counters'] } {
    let rules = 0;
    let open = 0;
    for (const cam of this.cameras.values()) {
      rules += cam.rules.size;
      for (const rt of cam.rules.values()) open += rt.stays.current().length;
    }
    return { models: this.opts.models.list(), providers: this.opts.models.providers.providers, cameras: this.cameras.size, rules, openCandidates: open, counters: { ...this.counters } };
  }

  /** Open candidates of a camera (or all cameras). */
  openCandidates(cameraId?: string): CandidateEvent[] {
    const out: CandidateEvent[] = [];
    for (const cam of this.cameras.values()) {
      if (cameraId && cam.ctx.cameraId !== cameraId) continue;
      for (const rt of cam.rules.values()) for (const s of rt.stays.current()) out.push(this.toEvent(cam, rt, s, 'open'));
    }
    return out;
  }

  /** A JPEG frame (snapshot path of ingest) instead of raw RGB. */
  async pushJpeg(frame: { cameraId: string; ts: number; jpeg: Buffer }): Promise<PushResult> {
    const img = await decodeImage(frame.jpeg);
    return this.pushFrame({ cameraId: frame.cameraId, ts: frame.ts, ...img });
  }

  /**
   * Analyses one sampled frame. A frame that arrives while the camera's previous one is still being
   * analysed is dropped ('busy'): analytics must fall behind by skipping, never by queueing.
   */
  async pushFrame(frame: RgbFrame): Promise<PushResult> {
    const cam = this.cameras.get(frame.cameraId);
    if (!cam || this.stopped) return { status: 'unknown-camera', inferences: 0, gated: 0 };
    if (cam.busy) {
      this.counters.busy++;
      return { status: 'busy', inferences: 0, gated: 0 };
    }
    if (frame.rgb.length !== frame.width * frame.height * 3) throw new Error(`frame of ${frame.cameraId}: ${frame.rgb.length} bytes is not ${frame.width}x${frame.height} RGB`);
    cam.busy = true;
    try {
      return await this.process(cam, frame);
    } finally {
      cam.busy = false;
    }
  }

  private async process(cam: CameraRuntime, frame: RgbFrame): Promise<PushResult> {
    this.counters.frames++;
    cam.lastTs = frame.ts;
    const result: PushResult = { status: 'processed', inferences: 0, gated: 0 };
    let thumb: GreyThumb | null = null;
    const work: Promise<void>[] = [];
    const shared = new Map<string, Promise<Detection[]>>();
    for (const rt of cam.rules.values()) {
      if (!rt.rule.enabled) continue;
      const geo = this.geometry(rt, frame.width, frame.height);
      this.applyAreas(rt);
      if (!scheduleActive(rt.rule.schedule, frame.ts, this.timeZone)) {
        work.push(this.emitChanges(cam, rt, frame, rt.stays.update([], frame.ts)));
        continue;
      }
      if (rt.rule.detector === 'foreground') {
        const blobs = geo.foreground!.update(frame, frame.ts);
        const tracks = rt.tracker.update(this.qualify(rt, blobs, frame), frame.ts);
        work.push(this.emitChanges(cam, rt, frame, rt.stays.update(tracks, frame.ts)));
        continue;
      }
      const detector = this.readyDetector(rt.rule.model ?? this.opts.defaultModel);
      if (!detector || !geo.crop) {
        work.push(this.emitChanges(cam, rt, frame, rt.stays.update([], frame.ts)));
        continue;
      }
      if (cam.gate) {
        thumb ??= greyThumb(frame, cam.gate.opts.thumbWidth);
        if (!cam.gate.shouldRun(rt.rule.id, thumb, geo.region, frame.ts)) {
          result.gated++;
          const tracks = rt.tracker.hold(frame.ts);
          work.push(this.emitChanges(cam, rt, frame, rt.stays.update(tracks, frame.ts)));
          continue;
        }
      }
      const crop = geo.crop;
      // Rules over the same area with the same model share one inference per frame.
      const key = `${detector.manifest.id}:${crop.left},${crop.top},${crop.width},${crop.height}`;
      let detections = shared.get(key);
      if (!detections) {
        result.inferences++;
        detections = (async () => {
          const input = await prepareInput(frame, crop, detector.manifest.input, detector.inputWidth, detector.inputHeight);
          const dets = await this.batcherFor(detector).submit(input.data);
          return dets.map((d) => ({ ...d, box: toFrameBox(d.box, input.transform, crop) }));
        })();
        shared.set(key, detections);
      }
      const pending = detections;
      work.push(
        (async () => {
          const mapped = await pending;
          const tracks = rt.tracker.update(this.qualify(rt, mapped, frame), frame.ts);
          await this.emitChanges(cam, rt, frame, rt.stays.update(tracks, frame.ts));
        })(),
      );
    }
    const settled = await Promise.allSettled(work);
    for (const s of settled) if (s.status === 'rejected') this.fail(s.reason);
    this.counters.inferences += result.inferences;
    this.counters.gated += result.gated;
    return result;
  }

  /**
   * Keeps what a rule cares about. Weak detections of the rule's classes are kept (down to the model's own
   * threshold) so they can extend tracks; only those above minScore start one (ByteTrack's two buckets).
   */
  private qualify(rt: RuleRuntime, dets: Detection[], frame: RgbFrame): Detection[] {
    const r = rt.rule;
    const frameArea = frame.width * frame.height;
    const zone = rt.size!.zonePx;
    const kept = dets.filter(
      (d) => (r.detector === 'foreground' || r.classes.includes(d.label)) && boxArea(d.box) / frameArea >= r.minArea && boxInZone(d.box, zone),
    );
    // One object seen as both car and truck must not become two tracks.
    return nms(kept, 0.6, { classAgnostic: true });
  }

  private geometry(rt: RuleRuntime, width: number, height: number): NonNullable<RuleRuntime['size']> {
    if (rt.size && rt.size.width === width && rt.size.height === height) return rt.size;
    const zonePx = toPixels(rt.rule.zone, width, height);
    const b = polygonBounds(zonePx);
    const margin = this.opts.cropMargin ?? 0.15;
    const minSide = Math.min(this.opts.minCropSide ?? 208, width, height);
    const mx = Math.max((b.x2 - b.x1) * margin, (minSide - (b.x2 - b.x1)) / 2, 0);
    const my = Math.max((b.y2 - b.y1) * margin, (minSide - (b.y2 - b.y1)) / 2, 0);
    const crop = clampRect({ left: b.x1 - mx, top: b.y1 - my * 2, width: b.x2 - b.x1 + 2 * mx, height: b.y2 - b.y1 + 3 * my }, width, height);
    const region = crop
      ? { x1: crop.left / width, y1: crop.top / height, x2: (crop.left + crop.width) / width, y2: (crop.top + crop.height) / height }
      : { x1: 0, y1: 0, x2: 1, y2: 1 };
    const foreground =
      rt.rule.detector === 'foreground' ? new StationaryForeground(rt.rule.zone, width, height, { ...DEFAULT_FOREGROUND_OPTIONS, ...this.opts.foreground }) : undefined;
    if (rt.size) rt.tracker = this.newTracker(rt.rule);
    rt.size = { width, height, zonePx, crop, region, ...(foreground ? { foreground } : {}) };
    return rt.size;
  }

  private replaceRules(cam: CameraRuntime, rules: Rule[]): void {
    const next = new Map<string, RuleRuntime>();
    for (const rule of rules) {
      const signature = JSON.stringify(rule);
      const existing = cam.rules.get(rule.id);
      if (existing && existing.signature === signature) {
        next.set(rule.id, existing);
        continue;
      }
      if (existing) this.closeRule(cam, existing);
      next.set(rule.id, {
        rule,
        signature,
        tracker: this.newTracker(rule),
        stays: new StayManager(this.stayOptions(rule)),
        evidence: new Map(),
      });
    }
    for (const [id, rt] of cam.rules) if (!next.has(id)) this.closeRule(cam, rt);
    cam.rules = next;
  }

  private closeRule(cam: CameraRuntime, rt: RuleRuntime): void {
    for (const c of rt.stays.closeAll(cam.lastTs)) this.emit('candidate.closed', this.toEvent(cam, rt, c.stay, 'closed'));
  }

  private newTracker(rule: Rule): IouTracker {
    return new IouTracker({ ...DEFAULT_TRACKER_OPTIONS, ...this.opts.tracker, highScore: rule.minScore });
  }

  private stayOptions(rule: Rule): StayOptions {
    return {
      minDwellSeconds: rule.minDwellSeconds,
      minCount: rule.minCount,
      cooldownSeconds: rule.cooldownSeconds,
      requireLabels: rule.requireClasses,
      graceSeconds: this.opts.stays?.graceSeconds ?? 30,
      regionIou: this.opts.stays?.regionIou ?? 0.3,
      updateEverySeconds: this.opts.stays?.updateEverySeconds ?? 30,
    };
  }

  private async emitChanges(cam: CameraRuntime, rt: RuleRuntime, frame: RgbFrame, changes: StayChange[]): Promise<void> {
    for (const change of changes) {
      if (change.kind === 'opened') {
        await this.writeEvidence(cam, rt, frame, change.stay);
        this.emit('candidate.opened', this.toEvent(cam, rt, change.stay, 'open'));
      } else if (change.kind === 'updated') {
        this.emit('candidate.updated', this.toEvent(cam, rt, change.stay, 'open'));
      } else {
        this.emit('candidate.closed', this.toEvent(cam, rt, change.stay, 'closed'));
        rt.evidence.delete(change.stay.id);
      }
    }
  }

  private async writeEvidence(cam: CameraRuntime, rt: RuleRuntime, frame: RgbFrame, stay: Stay): Promise<void> {
    const writer = this.opts.evidence;
    if (!writer) return;
    const info = this.eventTypes.get(rt.rule.eventType);
    const tracks: LabelledBox[] = rt.tracker
      .active()
      .filter((t: Track) => stay.trackIds.includes(t.id) && t.lastSeen === frame.ts)
      // the candidate's score on every box: the label on the still and the review list show one number
      .map((t) => ({ box: t.box, label: t.label, score: stay.score }));
    const boxes = tracks.length ? tracks : [{ box: stay.box, label: stay.label, score: stay.score }];
    // Chinese, with the font shipped in analytics/fonts/ (renders on a node with no fonts installed)
    const caption = evidenceCaption({
      cameraName: cam.ctx.name, address: cam.ctx.address, eventCode: info?.code, eventName: info?.nameZh ?? info?.nameEn ?? rt.rule.eventType,
      ts: frame.ts, timeZone: this.timeZone,
    });
    try {
      const paths = await writer.writeStills(stay.id, frame.ts, frame, rt.rule.zone, boxes, caption);
      rt.evidence.set(stay.id, paths);
    } catch (err) {
      this.fail(err);
    }
    if (writer.hasClipSource) {
      void writer
        .writeClipFor(stay.id, cam.ctx.cameraId, frame.ts)
        .then((clip) => {
          if (!clip || this.stopped) return;
          const still = rt.evidence.get(stay.id);
          const paths = { ...(still ?? {}), clip };
          // A stay that closed meanwhile no longer keeps evidence here; the event still tells the server.
          if (still) rt.evidence.set(stay.id, paths);
          this.emit('candidate.evidence', { id: stay.id, ruleId: rt.rule.id, cameraId: cam.ctx.cameraId, evidence: paths });
        })
        .catch((err) => this.fail(err));
    }
  }

  private toEvent(cam: CameraRuntime, rt: RuleRuntime, s: Stay, status: 'open' | 'closed'): CandidateEvent {
    const info = this.eventTypes.get(rt.rule.eventType);
    const w = rt.size?.width ?? 1;
    const h = rt.size?.height ?? 1;
    const end = s.closedAt ?? s.lastSeen;
    return {
      id: s.id,
      status,
      ruleId: rt.rule.id,
      cameraId: cam.ctx.cameraId,
      eventType: rt.rule.eventType,
      eventCode: info?.code ?? null,
      eventName: info?.nameZh ?? info?.nameEn ?? null,
      detector: rt.rule.detector,
      model: rt.rule.detector === 'model' ? (rt.rule.model ?? this.opts.defaultModel) : null,
      label: s.label,
      score: s.score,
      count: s.count,
      box: { x1: s.box.x1 / w, y1: s.box.y1 / h, x2: s.box.x2 / w, y2: s.box.y2 / h },
      trackIds: s.trackIds,
      firstSeen: s.firstSeen,
      openedAt: s.openedAt,
      lastSeen: s.lastSeen,
      closedAt: s.closedAt,
      dwellSeconds: (end - s.firstSeen) / 1000,
      gridCode: cam.ctx.gridCode ?? null,
      lat: cam.ctx.lat ?? null,
      lng: cam.ctx.lng ?? null,
      address: cam.ctx.address ?? null,
      evidence: { ...(rt.evidence.get(s.id) ?? {}) },
    };
  }

  private readonly detectors = new Map<string, Detector | null>();

  private async ensureModel(id: string): Promise<void> {
    if (this.detectors.has(id)) return;
    if (!this.opts.models.manifest(id)) {
      this.log.warn({ model: id }, 'rule names an unknown model');
      this.detectors.set(id, null);
      return;
    }
    const detector = await this.opts.models.load(id, (p) => this.emit('model.progress', p));
    this.detectors.set(id, detector);
  }

  private readyDetector(id: string): Detector | null {
    return this.detectors.get(id) ?? null;
  }

  private batcherFor(detector: Detector): InferenceBatcher {
    let b = this.batchers.get(detector.manifest.id);
    if (!b) {
      b = new InferenceBatcher(detector, { maxBatch: this.opts.batch?.maxBatch ?? 8, maxWaitMs: this.opts.batch?.maxWaitMs ?? 0 }, this.log);
      this.batchers.set(detector.manifest.id, b);
    }
    return b;
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.log.error({ err: e }, 'analytics error');
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
