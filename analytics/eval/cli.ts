/**
 * npm run eval [-- [--json report.json] [--update-baseline] [--model ID] [--models-dir DIR] [labels.json ...]]
 *
 * Runs the real engine over labelled footage on video time and prints precision and recall per event type.
 * Exit 1 when a figure dropped below analytics/eval/baseline.json (CI runs the same check in eval.test.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { evaluate } from './evaluate.js';
import { formatTable, regressions, toBaseline, type Baseline } from './report.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASELINE_PATH = join(projectRoot, 'analytics', 'eval', 'baseline.json');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'string' }, 'update-baseline': { type: 'boolean' }, 'models-dir': { type: 'string' }, model: { type: 'string' } },
});

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const report = await evaluate({ projectRoot, labelFiles: positionals.map((p) => resolve(p)), modelsDir: values['models-dir'] ?? process.env.MODELS_DIR ?? null, model: values.model, logger });
console.log(`model ${report.model}; ${report.clips.length} clip(s), ${(report.cameraHours * 3600).toFixed(1)} s of video\n`);
console.log(formatTable(report));
for (const c of report.clips) {
  console.log(`\n${c.source} (${c.frames} frames):`);
  for (const k of c.candidates) console.log(`  ${k.openedAt.toFixed(1).padStart(5)} s  ${k.ruleId.padEnd(18)} ${k.label.padEnd(10)} ${k.score.toFixed(2)}  ${k.verdict}${k.labelId ? ` → ${k.labelId}` : ''}`);
  for (const m of c.missed) console.log(`  missed: ${m}`);
  for (const n of c.notDue) console.log(`  not due: ${n.id} (${n.why})`);
}
if (values.json) {
  await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nreport written to ${values.json}`);
}
if (values['update-baseline']) {
  await writeFile(BASELINE_PATH, JSON.stringify(toBaseline(report), null, 2) + '\n');
  console.log(`baseline written to ${BASELINE_PATH}`);
} else if (!positionals.length && !values.model) {
  const baseline = JSON.parse(await readFile(BASELINE_PATH, 'utf8').catch(() => 'null')) as Baseline | null;
  if (!baseline) console.log('\nno baseline yet (npm run eval -- --update-baseline)');
  else {
    const worse = regressions(report, baseline);
    if (worse.length) {
      console.error(`\nworse than the baseline:\n  ${worse.join('\n  ')}`);
      process.exitCode = 1;
    } else console.log('\nno drop against the baseline');
  }
}
