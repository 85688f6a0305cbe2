import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { FfmpegFrameSource } from '../frame-source.js';
import type { ModelStore } from '../model-store.js';
import { AnalyticsEngine, type CandidateEvent } from '../pipeline.js';
import { PRESETS, validateRule, type Rule } from '../rules.js';
import { ValidationError } from '../validate.js';
import type { LabelFile } from './labels.js';
import { matchCandidates, scoreByType, type EvalCandidate, type EvalRuleInfo, type TypeScore, type Verdict } from './score.js';

export interface ClipResult {
  source: string;
  video: string;
  frames: number;
  clipSeconds: number;
  cameraHours: number;
  rules: (EvalRuleInfo & { preset: { minDwellSeconds?: number }; note: string | null })[];
  candidates: EvalCandidate[];
  verdicts: Verdict[];
  scores: TypeScore[];
  /** Engine work (CPU-bound figure, for the record; never asserted). */
  inferences: number;
  wallSeconds: number;
}

const EVAL_CAMERA = 'eval-camera';

/**
 * Runs the real engine (model store, detector, tracker, stays) over a labelled clip on video time: the real
 * decoder (ffmpeg) delivers every sampled frame and each is analysed before the next, so nothing is dropped and
 * two runs give the same candidates. The motion gate and grace stay as configured in production.
 */
export async function evaluateClip(labels: LabelFile, models: ModelStore, logger: Logger): Promise<ClipResult> {
  if (!existsSync(labels.video)) throw new ValidationError(labels.source, [{ field: 'video', message: `${labels.video} not found` }]);
  const eventTypes = new Set(Object.keys(PRESETS));
  for (const r of labels.rules) if (typeof r.body.eventType === 'string') eventTypes.add(r.body.eventType);
  const ctx = { eventTypes, classesOf: (id: string) => models.manifest(id)?.classes, defaultModel: labels.defaultModel };
  const rules: Rule[] = [];
  const errors: { field: string; message: string }[] = [];
  labels.rules.forEach((r, i) => {
    const v = validateRule({ ...r.body, id: r.id, cameraId: EVAL_CAMERA }, ctx);
    if (v.ok) rules.push(v.rule);
    else errors.push(...v.errors.map((e) => ({ field: `rules[${i}].${e.field}`, message: e.message })));
  });
  if (errors.length) throw new ValidationError(labels.source, errors);

  const engine = new AnalyticsEngine({ logger, models, defaultModel: labels.defaultModel });
  const base = Date.parse(labels.startTime);
  const candidates: EvalCandidate[] = [];
  engine.on('candidate.opened', (e: CandidateEvent) =>
    candidates.push({
      id: e.id, ruleId: e.ruleId, eventType: e.eventType, label: e.label, score: e.score, count: e.count, box: e.box,
      openedAt: (e.openedAt - base) / 1000, firstSeen: (e.firstSeen - base) / 1000,
    }),
  );
  const started = Date.now();
  let frames = 0;
  let lastTs = base;
  try {
    await engine.start();
    engine.setCamera({ cameraId: EVAL_CAMERA });
    engine.setRules(EVAL_CAMERA, rules);
    await engine.modelsSettled();
    const source = new FfmpegFrameSource({ cameraId: EVAL_CAMERA, input: { kind: 'file', path: labels.video }, rate: labels.fps, baseTs: base, logger });
    for await (const f of source.frames()) {
      const r = await engine.pushFrame(f);
      if (r.status !== 'processed') throw new Error(`frame at ${f.ts - base} ms was not analysed (${r.status})`);
      frames++;
      lastTs = f.ts;
    }
  } finally {
    await engine.stop();
  }
  const clipSeconds = (lastTs - base) / 1000 + 1 / labels.fps;
  const cameraHours = clipSeconds / 3600;
  const ruleInfo = rules.map((r) => ({
    id: r.id,
    eventType: r.eventType,
    minDwellSeconds: r.minDwellSeconds,
    preset: { minDwellSeconds: PRESETS[r.eventType]?.minDwellSeconds },
    note: labels.rules.find((x) => x.id === r.id)?.note ?? null,
  }));
  const verdicts = matchCandidates(candidates, labels.events, ruleInfo, labels.match, clipSeconds);
  return {
    source: labels.source,
    video: labels.video,
    frames,
    clipSeconds,
    cameraHours,
    rules: ruleInfo,
    candidates,
    verdicts,
    scores: scoreByType(verdicts, ruleInfo, labels.events, cameraHours),
    inferences: engine.counters.inferences,
    wallSeconds: (Date.now() - started) / 1000,
  };
}
