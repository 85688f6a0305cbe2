import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStore } from './model-store.js';
import { AnalyticsEngine, type CandidateEvent } from './pipeline.js';
import { validateRule } from './rules.js';
import { iou, type RgbFrame } from './types.js';
import { manifestsDir, silentLogger } from './test-helpers.js';

const W = 320;
const H = 240;

/** Deterministic textured street with sensor noise; optional dark heap and a walker crossing the zone. */
function scene(t: number, heap: boolean): RgbFrame {
  const rgb = Buffer.alloc(W * H * 3);
  let seed = (t * 7919) | 0;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed % 11) - 5;
  };
  const walkerX = (t * 25) % (W + 40) - 40;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 90 + ((x >> 3) + (y >> 3)) % 2 * 40 + Math.round(30 * Math.sin(x / 37) * Math.cos(y / 23));
      if (heap && x >= 140 && x < 190 && y >= 150 && y < 190) v = 30;
      if (x >= walkerX && x < walkerX + 16 && y >= 120 && y < 170) v = 220;
      const o = (y * W + x) * 3;
      rgb[o] = rgb[o + 1] = rgb[o + 2] = Math.max(0, Math.min(255, v + noise()));
    }
  }
  return { cameraId: 'cam-fg', ts: 1_700_000_000_000 + t * 1000, width: W, height: H, rgb };
}

describe('stationary-foreground detector (no model needed)', () => {
  let store: ModelStore;
  let engine: AnalyticsEngine;
  const events: { kind: string; e: CandidateEvent }[] = [];

  beforeAll(async () => {
    // No weights anywhere: the model is "missing" and foreground rules must still work.
    store = new ModelStore({ manifestsDir, weightDirs: [], logger: silentLogger });
    await store.init();
    engine = new AnalyticsEngine({ logger: silentLogger, models: store, defaultModel: 'yolox_nano', stays: { graceSeconds: 5 } });
    const rule = validateRule(
      { cameraId: 'cam-fg', eventType: 'exposed_garbage', zone: [[0.2, 0.45], [0.9, 0.45], [0.9, 0.95], [0.2, 0.95]], minDwellSeconds: 20, cooldownSeconds: 0 },
      { eventTypes: new Set(['exposed_garbage']), classesOf: (id) => store.manifest(id)?.classes, defaultModel: 'yolox_nano' },
    );
    if (!rule.ok) throw new Error(JSON.stringify(rule.errors));
    engine.setRules('cam-fg', [rule.rule]);
    for (const kind of ['candidate.opened', 'candidate.updated', 'candidate.closed'] as const) engine.on(kind, (e) => events.push({ kind, e }));
    // A heap is dropped at 10 s and taken away at 80 s; a walker crosses the zone all along.
    for (let t = 0; t <= 110; t++) await engine.pushFrame(scene(t, t >= 10 && t < 80));
  });
  afterAll(async () => {
    await engine.stop();
  });

  it('the missing model is reported, not fatal', () => {
    expect(store.state('yolox_nano')?.status).toBe('missing');
  });

  it('raises exactly one candidate for the heap, after the dwell, where the heap is', () => {
    const opened = events.filter((x) => x.kind === 'candidate.opened');
    expect(opened).toHaveLength(1);
    const e = opened[0].e;
    expect(e.label).toBe('foreground');
    expect(e.detector).toBe('foreground');
    const heap = { x1: 140 / W, y1: 150 / H, x2: 190 / W, y2: 190 / H };
    expect(iou(e.box, heap)).toBeGreaterThan(0.5);
    const openedAfter = (e.openedAt - 1_700_000_000_000) / 1000;
    expect(openedAfter).toBeGreaterThanOrEqual(30);
    expect(openedAfter).toBeLessThan(40);
  });

  it('closes the candidate once the heap is gone', () => {
    const closed = events.filter((x) => x.kind === 'candidate.closed');
    expect(closed).toHaveLength(1);
    const t = (closed[0].e.closedAt! - 1_700_000_000_000) / 1000;
    expect(t).toBeGreaterThanOrEqual(80);
    expect(t).toBeLessThan(95);
    expect(closed[0].e.id).toBe(events.find((x) => x.kind === 'candidate.opened')!.e.id);
  });
});
