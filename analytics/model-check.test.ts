import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from './frame-source.js';
import { checkModel, detectOnImage } from './model-check.js';
import { parseManifest } from './manifest.js';
import { ModelStore } from './model-store.js';
import { AnalyticsEngine, type CandidateEvent } from './pipeline.js';
import { validateRule } from './rules.js';
import { iou, type RgbFrame } from './types.js';
import { fixtureMedia, manifestsDir, modelsDir, silentLogger, VAN_BOX } from './test-helpers.js';

const yoloxOnnx = join(modelsDir, 'yolox_nano.onnx');
const nanodetOnnx = join(modelsDir, 'nanodet_m_416.onnx');
const manifestOf = async (f: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(manifestsDir, f), "utf8"));
const VAN = { x1: VAN_BOX.x1 / 768, y1: VAN_BOX.y1 / 576, x2: VAN_BOX.x2 / 768, y2: VAN_BOX.y2 / 576 };

describe('checking a city\'s model before it is enabled', () => {
  it('accepts a shipped model re-uploaded under another id, with its sha256', async () => {
    const m: Record<string, unknown> = { ...(await manifestOf('yolox_nano.json')), id: 'city_yolox', file: 'city_yolox.onnx' };
    const c = await checkModel(m, yoloxOnnx, { logger: silentLogger });
    expect(c).toMatchObject({ ok: true, errors: [], input: { width: 416, height: 416 }, sha256: m.sha256 });
  });

  it('refuses weights whose outputs do not fit the manifest\'s decoder, class list or input size, and a wrong sha256', async () => {
    const yolox: Record<string, unknown> = { ...(await manifestOf('yolox_nano.json')), id: 'city', sha256: null };
    const wrongFamily = await checkModel(yolox, nanodetOnnx, { logger: silentLogger });
    expect(wrongFamily.ok).toBe(false);
    expect(wrongFamily.errors[0].message).toMatch(/no input images|output/);
    const fewClasses = await checkModel({ ...yolox, classes: ['car', 'truck', 'bus'] }, yoloxOnnx, { logger: silentLogger });
    expect(fewClasses.errors[0].message).toMatch(/85 values per row, manifest implies 8 \(3 classes\)/);
    const size = await checkModel({ ...yolox, input: { ...(yolox.input as object), width: 320, height: 320 } }, yoloxOnnx, { logger: silentLogger });
    expect(size.errors[0].message).toMatch(/manifest input 320x320 does not match/);
    const hash = await checkModel({ ...yolox, sha256: 'a'.repeat(64) }, yoloxOnnx, { logger: silentLogger });
    expect(hash.errors[0]).toMatchObject({ field: 'manifest.sha256' });
    const bad = await checkModel({ ...yolox, decoder: { kind: 'ssd' } }, yoloxOnnx, { logger: silentLogger });
    expect(bad.errors.map((e) => e.field)).toContain('manifest.decoder.kind');
  });
});

describe('test run and hot swap (real weights, street clip)', () => {
  let store: ModelStore;
  let engine: AnalyticsEngine;
  const opened: CandidateEvent[] = [];
  beforeAll(async () => {
    store = new ModelStore({ manifestsDir, weightDirs: [modelsDir], logger: silentLogger, warmupRuns: 1 });
    await store.init();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('a test run on a snapshot shows what the model sees', async () => {
    await store.register(parseManifest({ ...(await manifestOf('yolox_nano.json')), id: 'city', file: 'city.onnx' }), yoloxOnnx);
    const r = await detectOnImage((await store.load('city'))!, await readFile(join(fixtureMedia, 'street-pedestrians-t20.jpg')));
    expect(r).toMatchObject({ width: 768, height: 576 });
    expect(r.detections.some((d) => ['car', 'truck', 'bus'].includes(d.label) && iou(d.box, VAN) > 0.5)).toBe(true);
    expect(r.detections.some((d) => d.label === 'person')).toBe(true);
  });

  it('a rule on the city model keeps running when the model is replaced, without a restart', async () => {
    engine = new AnalyticsEngine({ logger: silentLogger, models: store, defaultModel: 'yolox_nano', stays: { graceSeconds: 3 } });
    await engine.start();
    const rule = validateRule(
      { cameraId: 'cam', eventType: 'illegal_motor_parking', model: 'city', zone: [[0.83, 0.1], [0.95, 0.1], [0.95, 0.22], [0.83, 0.22]], minDwellSeconds: 2, cooldownSeconds: 0 },
      { eventTypes: new Set(['illegal_motor_parking']), classesOf: (id) => store.manifest(id)?.classes, defaultModel: 'yolox_nano' },
    );
    if (!rule.ok) throw new Error(JSON.stringify(rule.errors));
    engine.setRules('cam', [rule.rule]);
    await engine.modelsSettled();
    engine.on('candidate.opened', (e) => opened.push(e));
    const frames: RgbFrame[] = [];
    for await (const f of new FfmpegFrameSource({ cameraId: 'cam', input: { kind: 'file', path: join(fixtureMedia, 'street-pedestrians-30s.mp4') }, rate: 1, baseTs: 0, logger: silentLogger }).frames()) {
      frames.push(f);
      if (frames.length === 5) break;
    }
    for (const f of frames) await engine.pushFrame(f);
    expect(opened).toHaveLength(1);
    expect(engine.loadedModel('city')?.decoder.kind).toBe('yolox');
    // the city uploads a new version under the same id (here: NanoDet weights and manifest)
    await store.register(parseManifest({ ...(await manifestOf('nanodet_m_416.json')), id: 'city', file: 'city.onnx' }), nanodetOnnx);
    await engine.reloadModel('city');
    expect(engine.loadedModel('city')?.decoder.kind).toBe('nanodet');
    let ts = frames[4].ts;
    const empty = (f: RgbFrame): RgbFrame => ({ ...f, ts: (ts += 1000), rgb: Buffer.alloc(f.rgb.length, 110) });
    for (let i = 0; i < 5; i++) await engine.pushFrame(empty(frames[0]));
    const base = ts + 1000;
    for (const f of frames) await engine.pushFrame({ ...f, ts: base + f.ts });
    expect(opened).toHaveLength(2);
    expect(opened[1]).toMatchObject({ model: 'city', ruleId: rule.rule.id });
    expect(iou(opened[1].box, VAN)).toBeGreaterThan(0.5);
    // the second candidate's score came from the new weights
    expect(opened[1].score).not.toBe(opened[0].score);
  });
});
