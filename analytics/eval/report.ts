import { basename } from 'node:path';
import type { ClipResult } from './run.js';
import { combine, type TypeScore } from './score.js';

export interface EvalReport {
  format: 'streeteye-eval/1';
  model: string;
  clips: {
    source: string;
    video: string;
    frames: number;
    clipSeconds: number;
    rules: ClipResult['rules'];
    scores: TypeScore[];
    candidates: (ClipResult['candidates'][number] & { verdict: string; labelId: string | null })[];
    missed: string[];
    notDue: { id: string; why: string }[];
  }[];
  /** All clips together, per event type. */
  byEventType: TypeScore[];
  cameraHours: number;
}

export function buildReport(results: ClipResult[], model: string): EvalReport {
  return {
    format: 'streeteye-eval/1',
    model,
    clips: results.map((r) => ({
      source: basename(r.source),
      video: basename(r.video),
      frames: r.frames,
      clipSeconds: round(r.clipSeconds, 2),
      rules: r.rules,
      scores: r.scores,
      candidates: r.candidates.map((c) => {
        const v = r.verdicts.find((x) => 'candidate' in x && x.candidate.id === c.id);
        const verdict = !v ? 'unknown' : v.kind === 'true' ? 'true' : v.kind === 'false' ? `false (${v.why})` : v.kind;
        const labelId = v && 'label' in v && v.label ? v.label.id : null;
        return { ...c, box: roundBox(c.box), score: round(c.score, 3), openedAt: round(c.openedAt, 2), firstSeen: round(c.firstSeen, 2), verdict, labelId };
      }),
      missed: r.verdicts.filter((v) => v.kind === 'missed').map((v) => (v as { label: { id: string } }).label.id),
      notDue: r.verdicts.filter((v) => v.kind === 'not-due').map((v) => ({ id: (v as { label: { id: string } }).label.id, why: (v as { why: string }).why })),
    })),
    byEventType: combine(results.map((r) => ({ scores: r.scores, cameraHours: r.cameraHours, verdicts: r.verdicts }))),
    cameraHours: results.reduce((a, r) => a + r.cameraHours, 0),
  };
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(0)} %`);

/** The report as a Markdown table (what `npm run eval` prints and the README quotes). */
export function formatTable(report: EvalReport): string {
  const head = '| event type | rules | labelled | true | false (dup.) | missed | precision | recall | false / camera-hour | time to first after dwell |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|';
  const rows = report.byEventType.map((s) =>
    [
      s.eventType,
      s.rules.join(', '),
      s.notDue ? `${s.labelled} (${s.notDue} not due)` : String(s.labelled),
      s.truePositives,
      `${s.falseCandidates} (${s.duplicates})`,
      s.missed,
      pct(s.precision),
      pct(s.recall),
      s.falsePerCameraHour.toFixed(0),
      s.timeToFirst ? `${s.timeToFirst.mean.toFixed(1)} s (max ${s.timeToFirst.max.toFixed(1)} s)` : '–',
    ].join(' | '),
  );
  return [head, sep, ...rows.map((r) => `| ${r} |`)].join('\n');
}

export interface Baseline {
  format: 'streeteye-eval-baseline/1';
  byEventType: Record<string, { precision: number | null; recall: number | null; truePositives: number; falseCandidates: number; missed: number }>;
}

export function toBaseline(report: EvalReport): Baseline {
  return {
    format: 'streeteye-eval-baseline/1',
    byEventType: Object.fromEntries(
      report.byEventType.map((s) => [
        s.eventType,
        {
          precision: s.precision === null ? null : round(s.precision, 4),
          recall: s.recall === null ? null : round(s.recall, 4),
          truePositives: s.truePositives,
          falseCandidates: s.falseCandidates,
          missed: s.missed,
        },
      ]),
    ),
  };
}

/**
 * What got worse than the committed baseline: a lower precision or recall, a figure that became n/a
 * (e.g. every candidate of a type vanished), more false candidates (types without labels have no precision to
 * drop), or an event type that disappeared. Improvements pass.
 */
export function regressions(report: EvalReport, baseline: Baseline): string[] {
  const out: string[] = [];
  const now = new Map(report.byEventType.map((s) => [s.eventType, s]));
  for (const [type, base] of Object.entries(baseline.byEventType)) {
    const s = now.get(type);
    if (!s) {
      out.push(`${type}: in the baseline but no longer evaluated`);
      continue;
    }
    for (const k of ['precision', 'recall'] as const) {
      const b = base[k];
      const v = s[k];
      if (b === null) continue;
      if (v === null) out.push(`${type}: ${k} was ${pct(b)}, now n/a`);
      else if (v < b - 1e-4) out.push(`${type}: ${k} dropped from ${pct(b)} to ${pct(v)}`);
    }
    if (s.falseCandidates > base.falseCandidates) out.push(`${type}: ${s.falseCandidates} false candidates, baseline ${base.falseCandidates}`);
  }
  return out;
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

function roundBox(b: { x1: number; y1: number; x2: number; y2: number }) {
  return { x1: round(b.x1, 4), y1: round(b.y1, 4), x2: round(b.x2, 4), y2: round(b.y2, 4) };
}
