import { iou, type Box } from '../types.js';
import type { LabelledEvent } from './labels.js';

/** A candidate as the eval saw it open (times in seconds of video from the first frame). */
export interface EvalCandidate {
  id: string;
  ruleId: string;
  eventType: string;
  label: string;
  score: number;
  count: number;
  box: Box;
  /** When the candidate was raised. */
  openedAt: number;
  /** When its object (group) began to dwell. */
  firstSeen: number;
}

export interface EvalRuleInfo {
  id: string;
  eventType: string;
  minDwellSeconds: number;
}

export type Verdict =
  | { kind: 'true'; candidate: EvalCandidate; label: LabelledEvent; iou: number; secondsAfterDwell: number }
  | { kind: 'false'; candidate: EvalCandidate; why: 'no labelled event' | 'duplicate'; label?: LabelledEvent }
  | { kind: 'missed'; label: LabelledEvent }
  | { kind: 'not-due'; label: LabelledEvent; why: string };

export interface TypeScore {
  eventType: string;
  rules: string[];
  labelled: number;
  /** Labelled events shorter than their rules' dwell: no candidate is expected (not counted in recall). */
  notDue: number;
  truePositives: number;
  falseCandidates: number;
  duplicates: number;
  missed: number;
  precision: number | null;
  recall: number | null;
  falsePerCameraHour: number;
  /** Seconds from the moment a labelled event was due (from + dwell) to its first candidate. */
  timeToFirst: { mean: number; max: number } | null;
}

/**
 * Matches the candidates of one clip to its labels. A candidate is true when a labelled event of its type (and
 * rule, when the label names one) was going on when it opened (within slackSeconds) and its box overlaps the
 * label's by at least `iou`; the first candidate of a labelled event is the true one, later ones are duplicates
 * (a reviewer rejects them as such, so they count as false). Labelled events that lasted at least the dwell and
 * got no candidate are missed; shorter ones are not due (no rule with that dwell can raise them).
 */
export function matchCandidates(
  candidates: EvalCandidate[],
  labels: LabelledEvent[],
  rules: EvalRuleInfo[],
  match: { iou: number; slackSeconds: number },
  clipSeconds: number,
): Verdict[] {
  const verdicts: Verdict[] = [];
  const ruleById = new Map(rules.map((r) => [r.id, r]));
  const dwellFor = (l: LabelledEvent): number | null => {
    const applicable = rules.filter((r) => r.eventType === l.eventType && (!l.rule || l.rule === r.id));
    return applicable.length ? Math.min(...applicable.map((r) => r.minDwellSeconds)) : null;
  };
  const matched = new Set<string>();
  const sorted = [...candidates].sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
  for (const c of sorted) {
    let best: { label: LabelledEvent; v: number } | null = null;
    for (const l of labels) {
      if (l.eventType !== c.eventType || (l.rule && l.rule !== c.ruleId)) continue;
      if (c.openedAt < l.from - match.slackSeconds || c.openedAt > l.to + match.slackSeconds) continue;
      const v = iou(c.box, l.box);
      if (v < match.iou) continue;
      // prefer a label not yet matched, then the best overlap
      const better = !best || (matched.has(best.label.id) && !matched.has(l.id)) || (matched.has(best.label.id) === matched.has(l.id) && v > best.v);
      if (better) best = { label: l, v };
    }
    if (!best) verdicts.push({ kind: 'false', candidate: c, why: 'no labelled event' });
    else if (matched.has(best.label.id)) verdicts.push({ kind: 'false', candidate: c, why: 'duplicate', label: best.label });
    else {
      matched.add(best.label.id);
      const dwell = ruleById.get(c.ruleId)?.minDwellSeconds ?? 0;
      verdicts.push({ kind: 'true', candidate: c, label: best.label, iou: best.v, secondsAfterDwell: c.openedAt - (best.label.from + dwell) });
    }
  }
  for (const l of labels) {
    if (matched.has(l.id)) continue;
    const dwell = dwellFor(l);
    const end = Math.min(l.to, clipSeconds);
    if (dwell === null) verdicts.push({ kind: 'not-due', label: l, why: 'no rule of this event type' });
    else if (end - l.from <= dwell) verdicts.push({ kind: 'not-due', label: l, why: `lasted ${(end - l.from).toFixed(1)} s in the clip, not more than the ${dwell} s dwell` });
    else verdicts.push({ kind: 'missed', label: l });
  }
  return verdicts;
}

/** Per event type figures (the rules listed are the ones of that type). */
export function scoreByType(verdicts: Verdict[], rules: EvalRuleInfo[], labels: LabelledEvent[], cameraHours: number): TypeScore[] {
  const types = [...new Set([...rules.map((r) => r.eventType), ...labels.map((l) => l.eventType)])].sort();
  return types.map((t) => {
    const of = verdicts.filter((v) => ('candidate' in v ? v.candidate.eventType : v.label.eventType) === t);
    const tp = of.filter((v) => v.kind === 'true') as Extract<Verdict, { kind: 'true' }>[];
    const fp = of.filter((v) => v.kind === 'false') as Extract<Verdict, { kind: 'false' }>[];
    const missed = of.filter((v) => v.kind === 'missed').length;
    const lags = tp.map((v) => v.secondsAfterDwell);
    return {
      eventType: t,
      rules: rules.filter((r) => r.eventType === t).map((r) => r.id),
      labelled: labels.filter((l) => l.eventType === t).length,
      notDue: of.filter((v) => v.kind === 'not-due').length,
      truePositives: tp.length,
      falseCandidates: fp.length,
      duplicates: fp.filter((v) => v.why === 'duplicate').length,
      missed,
      precision: tp.length + fp.length ? tp.length / (tp.length + fp.length) : null,
      recall: tp.length + missed ? tp.length / (tp.length + missed) : null,
      falsePerCameraHour: cameraHours > 0 ? fp.length / cameraHours : 0,
      timeToFirst: lags.length ? { mean: lags.reduce((a, b) => a + b, 0) / lags.length, max: Math.max(...lags) } : null,
    };
  });
}

/** Sums per-type figures over several clips (precision and recall recomputed from the counts). */
export function combine(parts: { scores: TypeScore[]; cameraHours: number; verdicts: Verdict[] }[]): TypeScore[] {
  const hours = parts.reduce((a, p) => a + p.cameraHours, 0);
  const byType = new Map<string, TypeScore & { lags: number[] }>();
  for (const p of parts) {
    for (const s of p.scores) {
      const acc = byType.get(s.eventType) ?? { ...s, rules: [], labelled: 0, notDue: 0, truePositives: 0, falseCandidates: 0, duplicates: 0, missed: 0, lags: [] };
      acc.rules = [...new Set([...acc.rules, ...s.rules])];
      acc.labelled += s.labelled;
      acc.notDue += s.notDue;
      acc.truePositives += s.truePositives;
      acc.falseCandidates += s.falseCandidates;
      acc.duplicates += s.duplicates;
      acc.missed += s.missed;
      byType.set(s.eventType, acc);
    }
    for (const v of p.verdicts) if (v.kind === 'true') byType.get(v.candidate.eventType)?.lags.push(v.secondsAfterDwell);
  }
  return [...byType.values()]
    .sort((a, b) => a.eventType.localeCompare(b.eventType))
    .map(({ lags, ...s }) => ({
      ...s,
      precision: s.truePositives + s.falseCandidates ? s.truePositives / (s.truePositives + s.falseCandidates) : null,
      recall: s.truePositives + s.missed ? s.truePositives / (s.truePositives + s.missed) : null,
      falsePerCameraHour: hours > 0 ? s.falseCandidates / hours : 0,
      timeToFirst: lags.length ? { mean: lags.reduce((a, b) => a + b, 0) / lags.length, max: Math.max(...lags) } : null,
    }));
}
