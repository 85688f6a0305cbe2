/**
 * Public surface of the analytics engine (what the server and ingest import). See README.md for the wiring.
 */
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from './config.js';
import { EvidenceWriter, type ClipSource } from './evidence.js';
import { defaultWeightDirs, ModelStore } from './model-store.js';
import { AnalyticsEngine, type EventTypeInfo } from './pipeline.js';

export { parseAnalyticsConfig, DEFAULT_ANALYTICS_CONFIG, type AnalyticsConfig } from './config.js';
export { AnalyticsEngine, type CandidateEvent, type CameraContext, type EventTypeInfo, type PushResult, type SuppressionRegion } from './pipeline.js';
export { ModelStore, defaultWeightDirs, type ModelState, type ModelStatus, type WarmupProgress } from './model-store.js';
export { validateRule, PRESETS, type Rule, type RuleContext, type RuleResult } from './rules.js';
export { EvidenceWriter, type ClipSegments, type ClipSource, type EvidencePaths } from './evidence.js';
export { FfmpegFrameSource, type FrameSource } from './frame-source.js';
export { validatePolygon } from './zones.js';
export { checkModel, detectOnImage, type ModelCheck, type TestDetection } from './model-check.js';
export { parseManifest, type ModelManifest } from './manifest.js';
export { Detector } from './detector.js';
export {
  SUPPRESSING_REASONS, coveredBy, regionFromRejection, suggestSpots, suggestThresholds,
  type ReviewedCandidate, type SpotSuggestion, type ThresholdField, type ThresholdSuggestion,
} from './learning.js';
export { ruleInputFromRow, ruleToRow, eventTypesFromRows, type RuleRow, type EventTypeRow } from './db-mapping.js';
export type { RgbFrame, Box, Polygon } from './types.js';
export type { FieldError } from './validate.js';

export interface CreateAnalyticsOptions {
  config: AnalyticsConfig;
  logger: Logger;
  /** Project root: models/ (manifests and weights) and a relative evidenceDir are resolved against it. */
  projectRoot: string;
  eventTypes?: Map<string, EventTypeInfo>;
  /** Ingest's buffered fMP4 around a moment, for evidence clips. */
  clipSource?: ClipSource;
  /** A city's uploaded models (manifest + weights), e.g. $DATA_DIR/models. */
  uploadsDir?: string;
}

/** Builds the model store, evidence writer and engine from validated config; call engine.start() next. */
export async function createAnalytics(opts: CreateAnalyticsOptions): Promise<{ engine: AnalyticsEngine; models: ModelStore; evidenceDir: string }> {
  const { config } = opts;
  const weightDirs = defaultWeightDirs(opts.projectRoot);
  if (config.modelsDir) weightDirs.unshift(config.modelsDir);
  const models = new ModelStore({
    manifestsDir: join(opts.projectRoot, 'models'),
    weightDirs,
    uploadsDir: opts.uploadsDir,
    device: config.device,
    intraOpThreads: config.threads,
    logger: opts.logger,
  });
  await models.init();
  const evidenceDir = isAbsolute(config.evidenceDir) ? config.evidenceDir : join(opts.projectRoot, config.evidenceDir);
  const evidence = new EvidenceWriter({ dir: evidenceDir, logger: opts.logger, clipSource: opts.clipSource, remuxClips: config.remuxClips });
  const { enabled: gateEnabled, ...gate } = config.motionGate;
  const engine = new AnalyticsEngine({
    logger: opts.logger,
    models,
    defaultModel: config.defaultModel,
    eventTypes: opts.eventTypes,
    evidence,
    timeZone: config.timeZone,
    motionGate: gateEnabled ? gate : false,
    batch: { maxBatch: config.maxBatch },
    stays: { graceSeconds: config.graceSeconds },
  });
  return { engine, models, evidenceDir };
}
