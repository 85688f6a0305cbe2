import { Checker, ValidationError } from './validate.js';
import { isValidTimeZone } from './schedule.js';
import type { DevicePreference } from './providers.js';

/** The `analytics` section of the server configuration (JSON/YAML/env), validated strictly. */
export interface AnalyticsConfig {
  enabled: boolean;
  /** Manifest id used by rules that name no model. */
  defaultModel: string;
  /** Extra directory searched for weights before models/ (MODELS_DIR). */
  modelsDir: string | null;
  device: DevicePreference;
  /** onnxruntime intra-op threads per session; 0 = all cores. */
  threads: number;
  /** Sampling of the sub stream: frames per second, or keyframes only. */
  sampling: { mode: 'fps'; fps: number } | { mode: 'keyframes' };
  motionGate: { enabled: boolean; pixelThreshold: number; minChangedFraction: number; maxSkipSeconds: number };
  /** Seconds without the object before a candidate closes. */
  graceSeconds: number;
  timeZone: string;
  evidenceDir: string;
  /**
   * Days the evidence files of rejected and expired candidates are kept (0 = forever). Confirmed events' evidence
   * belongs to their case and is never removed; the event rows stay either way (precision counts them).
   */
  evidenceRetentionDays: number;
  /** Rewrite clips with ffmpeg -c copy into a plain MP4 (else keep the fMP4 fragments as they are). */
  remuxClips: boolean;
  maxBatch: number;
}

export const DEFAULT_ANALYTICS_CONFIG: AnalyticsConfig = {
  enabled: true,
  defaultModel: 'yolox_nano',
  modelsDir: null,
  device: 'cpu',
  threads: 1,
  sampling: { mode: 'fps', fps: 1 },
  motionGate: { enabled: true, pixelThreshold: 18, minChangedFraction: 0.004, maxSkipSeconds: 20 },
  graceSeconds: 30,
  timeZone: 'Asia/Shanghai',
  evidenceDir: 'data/evidence',
  evidenceRetentionDays: 30,
  remuxClips: true,
  maxBatch: 8,
};

/** Defaults for what is absent; unknown keys and bad values are refused with their paths. */
export function parseAnalyticsConfig(raw: unknown = {}): AnalyticsConfig {
  const c = new Checker();
  const d = DEFAULT_ANALYTICS_CONFIG;
  const o = c.object(raw, 'analytics', [
    'enabled', 'defaultModel', 'modelsDir', 'device', 'threads', 'sampling', 'motionGate', 'graceSeconds', 'timeZone', 'evidenceDir', 'evidenceRetentionDays', 'remuxClips', 'maxBatch',
  ]);
  if (!o) throw new ValidationError('analytics config', c.errors);
  const enabled = c.boolean(o.enabled ?? d.enabled, 'analytics.enabled');
  const defaultModel = c.string(o.defaultModel ?? d.defaultModel, 'analytics.defaultModel', { pattern: /^[a-z0-9][a-z0-9_.-]*$/ });
  const modelsDir = o.modelsDir === undefined || o.modelsDir === null ? null : (c.string(o.modelsDir, 'analytics.modelsDir') ?? null);
  const device = c.oneOf(o.device ?? d.device, 'analytics.device', ['cpu', 'cuda'] as const);
  const threads = c.number(o.threads ?? d.threads, 'analytics.threads', { integer: true, min: 0, max: 64 });
  let sampling: AnalyticsConfig['sampling'] | undefined = d.sampling;
  if (o.sampling !== undefined) {
    const s = c.object(o.sampling, 'analytics.sampling', ['mode', 'fps']);
    const mode = s && c.oneOf(s.mode, 'analytics.sampling.mode', ['fps', 'keyframes'] as const);
    if (mode === 'keyframes') {
      if (s!.fps !== undefined) c.fail('analytics.sampling.fps', 'not used with keyframes');
      sampling = { mode };
    } else if (mode === 'fps') {
      const fps = c.number(s!.fps, 'analytics.sampling.fps', { min: 0.05, max: 30 });
      sampling = fps === undefined ? undefined : { mode, fps };
    }
  }
  const mg = c.object(o.motionGate ?? {}, 'analytics.motionGate', ['enabled', 'pixelThreshold', 'minChangedFraction', 'maxSkipSeconds']);
  const motionGate = mg && {
    enabled: c.boolean(mg.enabled ?? d.motionGate.enabled, 'analytics.motionGate.enabled'),
    pixelThreshold: c.number(mg.pixelThreshold ?? d.motionGate.pixelThreshold, 'analytics.motionGate.pixelThreshold', { min: 1, max: 255 }),
    minChangedFraction: c.number(mg.minChangedFraction ?? d.motionGate.minChangedFraction, 'analytics.motionGate.minChangedFraction', { min: 0, max: 1 }),
    maxSkipSeconds: c.number(mg.maxSkipSeconds ?? d.motionGate.maxSkipSeconds, 'analytics.motionGate.maxSkipSeconds', { min: 1, max: 3600 }),
  };
  const graceSeconds = c.number(o.graceSeconds ?? d.graceSeconds, 'analytics.graceSeconds', { min: 0, max: 3600 });
  const timeZone = c.string(o.timeZone ?? d.timeZone, 'analytics.timeZone');
  if (timeZone !== undefined && !isValidTimeZone(timeZone)) c.fail('analytics.timeZone', `unknown time zone ${timeZone}`);
  const evidenceDir = c.string(o.evidenceDir ?? d.evidenceDir, 'analytics.evidenceDir');
  const evidenceRetentionDays = c.number(o.evidenceRetentionDays ?? d.evidenceRetentionDays, 'analytics.evidenceRetentionDays', { integer: true, min: 0, max: 3650 });
  const remuxClips = c.boolean(o.remuxClips ?? d.remuxClips, 'analytics.remuxClips');
  const maxBatch = c.number(o.maxBatch ?? d.maxBatch, 'analytics.maxBatch', { integer: true, min: 1, max: 64 });
  if (motionGate && motionGate.maxSkipSeconds !== undefined && graceSeconds !== undefined && motionGate.maxSkipSeconds >= graceSeconds) {
    c.fail('analytics.motionGate.maxSkipSeconds', 'must be below graceSeconds, or a gated stay could close while its object is still there');
  }
  if (!c.ok) throw new ValidationError('analytics config', c.errors);
  return {
    enabled: enabled!,
    defaultModel: defaultModel!,
    modelsDir,
    device: device!,
    threads: threads!,
    sampling: sampling!,
    motionGate: motionGate as AnalyticsConfig['motionGate'],
    graceSeconds: graceSeconds!,
    timeZone: timeZone!,
    evidenceDir: evidenceDir!,
    evidenceRetentionDays: evidenceRetentionDays!,
    remuxClips: remuxClips!,
    maxBatch: maxBatch!,
  };
}
