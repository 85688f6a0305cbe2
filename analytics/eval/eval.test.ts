import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, silentLogger } from '../test-helpers.js';
import { ValidationError } from '../validate.js';
import { evaluate } from './evaluate.js';
import { parseLabels, type LabelledEvent } from './labels.js';
import { formatTable, regressions, type Baseline, type EvalReport } from './report.js';
import { matchCandidates, scoreByType, type EvalCandidate } from './score.js';

const label = (id: string, over: Partial<LabelledEvent> = {}): LabelledEvent => ({
  id, eventType: 'illegal_motor_parking', from: 0, to: 30, box: { x1: 0.1, y1: 0.1, x2: 0.3, y2: 0.3 }, rule: null, note: null, ...over,
});
const cand = (id: string, openedAt: number, box = { x1: 0.1, y1: 0.1, x2: 0.3, y2: 0.3 }, eventType = 'illegal_motor_parking'): EvalCandidate => ({
  id, ruleId: 'r1', eventType, label: 'car', score: 0.9, count: 1, box, openedAt, firstSeen: openedAt - 10,
});
const rules = [{ id: 'r1', eventType: 'illegal_motor_parking', minDwellSeconds: 10 }];
const match = { iou: 0.3, slackSeconds: 2 };

describe('eval scoring', () => {
  it('counts the first candidate of a labelled event as true, later ones as duplicates, others as false', () => {
    const v = matchCandidates(
      [cand('a', 12), cand('b', 20), cand('c', 15, { x1: 0.6, y1: 0.6, x2: 0.8, y2: 0.8 }), cand('d', 50)],
      [label('car'), label('gone', { from: 0, to: 5, box: { x1: 0.6, y1: 0.1, x2: 0.9, y2: 0.3 } }), label('late', { from: 20, to: 40, box: { x1: 0.4, y1: 0.4, x2: 0.5, y2: 0.5 } })],
      rules, match, 30,
    );
    const kinds = Object.fromEntries(v.map((x) => ['candidate' in x ? x.candidate.id : x.label.id, x.kind === 'false' ? `false:${x.why}` : x.kind]));
    expect(kinds).toEqual({ a: 'true', b: 'false:duplicate', c: 'false:no labelled event', d: 'false:no labelled event', gone: 'not-due', late: 'not-due' });
    const [s] = scoreByType(v, rules, [label('car')], 30 / 3600);
    expect(s).toMatchObject({ truePositives: 1, falseCandidates: 3, duplicates: 1, missed: 0, precision: 0.25, recall: 1, falsePerCameraHour: 360 });
    expect(s.timeToFirst).toEqual({ mean: 2, max: 2 });
  });

  it('misses a labelled event that lasted the dwell without a candidate', () => {
    const v = matchCandidates([], [label('car')], rules, match, 30);
    expect(v).toEqual([{ kind: 'missed', label: label('car') }]);
    expect(scoreByType(v, rules, [label('car')], 1)[0]).toMatchObject({ recall: 0, precision: null });
  });

  it('refuses a label file with wrong fields, naming them', () => {
    const bad = { format: 'streeteye-labels/1', video: 'x.mp4', rules: [{ id: 'r', eventType: 'illegal_motor_parking', zone: [] }], events: [{ id: 'e', eventType: 'x', from: 5, to: 2, box: [0.5, 0.5, 0.2, 1.2], extra: 1 }] };
    try {
      parseLabels(bad, '/tmp/bad.labels.json');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const fields = (err as ValidationError).errors.map((e) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['events[0].extra', 'events[0].to', 'events[0].box']));
    }
  });

  it('reports drops against the baseline and lets improvements pass', () => {
    const report = { byEventType: [{ eventType: 'p', precision: 0.5, recall: 1, falseCandidates: 2 }, { eventType: 'q', precision: null, recall: null, falseCandidates: 0 }] } as unknown as EvalReport;
    const base: Baseline = {
      format: 'streeteye-eval-baseline/1',
      byEventType: { p: { precision: 0.75, recall: 0.5, truePositives: 1, falseCandidates: 1, missed: 1 }, q: { precision: 1, recall: null, truePositives: 1, falseCandidates: 0, missed: 0 }, r: { precision: null, recall: null, truePositives: 0, falseCandidates: 0, missed: 0 } },
    };
    expect(regressions(report, base)).toEqual([
      'p: precision dropped from 75 % to 50 %',
      'p: 2 false candidates, baseline 1',
      'q: precision was 100 %, now n/a',
      'r: in the baseline but no longer evaluated',
    ]);
  });
});

describe('npm run eval on the shipped labelled footage (real model, real decoder, video time)', () => {
  let report: EvalReport;
  beforeAll(async () => {
    report = await evaluate({ projectRoot: repoRoot, logger: silentLogger });
  }, 180_000);

  it('keeps precision and recall per event type at or above the committed baseline', async () => {
    const baseline = JSON.parse(await readFile(join(repoRoot, 'analytics', 'eval', 'baseline.json'), 'utf8')) as Baseline;
    expect(regressions(report, baseline)).toEqual([]);
  });

  it('prints a table with a row per event type of the labelled clip', () => {
    const table = formatTable(report);
    for (const t of ['illegal_motor_parking', 'road_occupying_stall', 'exposed_garbage']) expect(table).toContain(`| ${t} |`);
    expect(report.clips[0].frames).toBe(30);
    expect(report.cameraHours * 3600).toBeCloseTo(30, 0);
  });

  it('finds both parked vehicles and raises nothing on two people standing still on the walkway', () => {
    const byType = Object.fromEntries(report.byEventType.map((s) => [s.eventType, s]));
    expect(byType.illegal_motor_parking).toMatchObject({ truePositives: 2, falseCandidates: 0 });
    expect(byType.road_occupying_stall.falseCandidates).toBe(0);
    expect(byType.unlicensed_hawker.falseCandidates).toBe(0);
  });
});
