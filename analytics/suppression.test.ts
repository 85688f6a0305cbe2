import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from './frame-source.js';
import { ModelStore } from './model-store.js';
import { AnalyticsEngine, type CandidateEvent } from './pipeline.js';
import { validateRule, type Rule } from './rules.js';
import { iou, type Box, type RgbFrame } from './types.js';
import { fixtureMedia, manifestsDir, modelsDir, silentLogger } from './test-helpers.js';
import { regionFromRejection } from './learning.js';

const T0 = Date.UTC(2026, 0, 5, 2, 0, 0);
// the kerb in front of the building: the white van and the teal car beside it both stand there all clip long
const KERB: [number, number][] = [[0.8, 0.06], [1, 0.06], [1, 0.22], [0.8, 0.22]];
const VAN: Box = { x1: 0.849, y1: 0.075, x2: 0.943, y2: 0.175 };
const CAR: Box = { x1: 0.957, y1: 0.09, x2: 1, y2: 0.165 };

/** Both vehicles painted over: the kerb is empty, so their stays close. */
function emptyKerb(f: RgbFrame, ts: number): RgbFrame {
  const rgb = Buffer.from(f.rgb);
  for (let y = 30; y < 115; y++) rgb.fill(110, (y * f.width + 635) * 3, (y * f.width + f.width) * 3);
  return { ...f, ts, rgb };
}

describe('a rejection with a reason becomes a suppression region (real model, street clip)', () => {
  let engine: AnalyticsEngine;
  let permanent: Rule;
  let expiring: Rule;
  const opened: CandidateEvent[] = [];
  let secondPassFrom = 0;

  beforeAll(async () => {
    const store = new ModelStore({ manifestsDir, weightDirs: [modelsDir], logger: silentLogger, warmupRuns: 1 });
    await store.init();
    engine = new AnalyticsEngine({ logger: silentLogger, models: store, defaultModel: 'yolox_nano', stays: { graceSeconds: 4 } });
    await engine.start();
    const ctx = { eventTypes: new Set(['illegal_motor_parking']), classesOf: (id: string) => store.manifest(id)?.classes, defaultModel: 'yolox_nano' };
    const make = (name: string): Rule => {
      const r = validateRule({ cameraId: 'cam-1', eventType: 'illegal_motor_parking', name, zone: KERB, minDwellSeconds: 3, cooldownSeconds: 0 }, ctx);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.rule;
    };
    permanent = make('van rejected as a permanent object');
    expiring = make('van rejected as a legal bay, region expired since');
    engine.setRules('cam-1', [permanent, expiring]);
    await engine.modelsSettled();
    engine.on('candidate.opened', (e) => opened.push(e));

    const frames: RgbFrame[] = [];
    const source = new FfmpegFrameSource({ cameraId: 'cam-1', input: { kind: 'file', path: join(fixtureMedia, 'street-pedestrians-30s.mp4') }, rate: 1, baseTs: T0, logger: silentLogger });
    for await (const f of source.frames()) frames.push(f);
    // first 12 s: both vehicles raise a candidate on both rules
    for (const f of frames.slice(0, 12)) await engine.pushFrame(f);
    let ts = frames[11].ts;
    // the reviewer rejects the van's candidates: a region for good on one rule, one that has run out on the other
    const van = (r: Rule) => opened.find((e) => e.ruleId === r.id && iou(e.box, VAN) > 0.5)!;
    engine.setSuppressionRegions(permanent.id, [{ box: regionFromRejection(van(permanent).box), until: null }]);
    engine.setSuppressionRegions(expiring.id, [{ box: regionFromRejection(van(expiring).box), until: ts + 3000 }]);
    // the kerb empties for 8 s (every stay closes), then the same scene comes back and dwells again
    for (let i = 0; i < 8; i++) await engine.pushFrame(emptyKerb(frames[i], (ts += 1000)));
    secondPassFrom = ts + 1000;
    for (const f of frames.slice(0, 12)) await engine.pushFrame({ ...f, ts: f.ts - T0 + secondPassFrom });
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
  });

  const where = (e: CandidateEvent) => (iou(e.box, VAN) > 0.5 ? 'van' : iou(e.box, CAR) > 0.3 ? 'car' : 'other');
  const pass = (ruleId: string, second: boolean) => opened.filter((e) => e.ruleId === ruleId && (e.openedAt >= secondPassFrom) === second).map(where).sort();

  it('first pass: van and car each raise one candidate on both rules', () => {
    expect(pass(permanent.id, false)).toEqual(['car', 'van']);
    expect(pass(expiring.id, false)).toEqual(['car', 'van']);
  });

  it('after the rejection the next stay of the van raises nothing, while the car beside it still does', () => {
    expect(pass(permanent.id, true)).toEqual(['car']);
  });

  it('a region that has expired suppresses nothing', () => {
    expect(pass(expiring.id, true)).toEqual(['car', 'van']);
  });
});
