import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ModelStore } from '../model-store.js';
import { loadLabels } from './labels.js';
import { buildReport, type EvalReport } from './report.js';
import { evaluateClip } from './run.js';

export interface EvaluateOptions {
  /** Label files; default: every *.labels.json in test/fixtures/media. */
  labelFiles?: string[];
  projectRoot: string;
  /** Extra weight directory searched first (MODELS_DIR). */
  modelsDir?: string | null;
  logger: Logger;
  /** Runs every rule on this model instead of the label file's (compare models on the same labels). */
  model?: string;
}

/** The labelled clips a fresh checkout ships. */
export async function defaultLabelFiles(projectRoot: string): Promise<string[]> {
  const dir = join(projectRoot, 'test', 'fixtures', 'media');
  return (await readdir(dir)).filter((f) => f.endsWith('.labels.json')).sort().map((f) => join(dir, f));
}

/** Loads the labels, runs every clip through the real engine and builds the report. */
export async function evaluate(opts: EvaluateOptions): Promise<EvalReport> {
  const files = opts.labelFiles?.length ? opts.labelFiles : await defaultLabelFiles(opts.projectRoot);
  const labels = (await Promise.all(files.map(loadLabels))).map((l) => (opts.model ? { ...l, defaultModel: opts.model, rules: l.rules.map((r) => ({ ...r, body: { ...r.body, model: undefined } })) } : l));
  const models = new ModelStore({
    manifestsDir: join(opts.projectRoot, 'models'),
    weightDirs: [...(opts.modelsDir ? [opts.modelsDir] : []), join(opts.projectRoot, 'models')],
    logger: opts.logger,
    warmupRuns: 1,
  });
  await models.init();
  const results = [];
  for (const l of labels) results.push(await evaluateClip(l, models, opts.logger));
  const model = [...new Set(labels.map((l) => l.defaultModel))].join(', ');
  return buildReport(results, model);
}
