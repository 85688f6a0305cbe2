import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStore } from './model-store.js';
import { decodeImage, prepareInput, toFrameBox, type RawImage } from './preprocess.js';
import { iou, type Detection } from './types.js';
import { decodeYolox } from './detectors/yolox.js';
import { decodeNanodet } from './detectors/nanodet.js';
import { decodeYolov8 } from './detectors/yolov8.js';
import { manifestsDir, fixtureMedia, modelsDir, silentLogger, VAN_BOX } from './test-helpers.js';
import type { Detector } from './detector.js';

describe.each(['yolox_nano', 'nanodet_m_416'])('%s on real street footage', (modelId) => {
  let store: ModelStore;
  let detector: Detector;
  let frame: RawImage;
  let dets: Detection[];

  beforeAll(async () => {
    store = new ModelStore({ manifestsDir, weightDirs: [modelsDir], logger: silentLogger, warmupRuns: 1 });
    await store.init();
    detector = (await store.load(modelId))!;
    frame = await decodeImage(await readFile(join(fixtureMedia, 'street-pedestrians-t20.jpg')));
    const rect = { left: 0, top: 0, width: frame.width, height: frame.height };
    const input = await prepareInput(frame, rect, detector.manifest.input, detector.inputWidth, detector.inputHeight);
    const [raw] = await detector.detect([input.data]);
    dets = raw.map((d) => ({ ...d, box: toFrameBox(d.box, input.transform, rect) }));
  });
  afterAll(async () => {
    await detector?.release();
  });

  it('is ready after warm-up, with the sha256 verified', () => {
    expect(store.state(modelId)).toMatchObject({ status: 'ready', message: '416x416' });
  });

  it('finds the people with sensible scores and plausible boxes', () => {
    const people = dets.filter((d) => d.label === 'person' && d.score >= 0.4);
    expect(people.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...people.map((p) => p.score))).toBeGreaterThan(0.7);
    for (const p of people) {
      const w = p.box.x2 - p.box.x1;
      const h = p.box.y2 - p.box.y1;
      // Upright pedestrians: taller than wide, and inside the 768x576 frame.
      expect(h).toBeGreaterThan(w);
      expect(p.box.x1).toBeGreaterThanOrEqual(0);
      expect(p.box.y2).toBeLessThanOrEqual(576);
    }
  });

  it('finds the parked van as a car or truck where it stands', () => {
    const van = dets.filter((d) => (d.label === 'car' || d.label === 'truck') && iou(d.box, VAN_BOX) > 0.7);
    expect(van.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...van.map((v) => v.score))).toBeGreaterThan(0.45);
  });
});

describe('decoders against hand-computed outputs', () => {
  const classes = ['person', 'car', 'truck'];

  it('YOLOX: grid offset, exp size, stride and obj x class score', () => {
    // 32x32 input, strides 8/16/32 -> 16 + 4 + 1 = 21 rows of 5 + 3.
    const rows = 21;
    const data = new Float32Array(rows * 8);
    // Row 6 is stride 8, gx = 2, gy = 1.
    data.set([0.5, 0.25, Math.log(2), 0, 0.9, 0.1, 0.8, 0.2], 6 * 8);
    // Row 20 is stride 32, gx = gy = 0; obj under threshold -> dropped.
    data.set([0, 0, 0, 0, 0.2, 1, 0, 0], 20 * 8);
    const dets = decodeYolox({ data, dims: [1, rows, 8] }, [8, 16, 32], { inputWidth: 32, inputHeight: 32, classes, scoreThreshold: 0.3 });
    expect(dets).toHaveLength(1);
    const d = dets[0];
    expect(d.label).toBe('car');
    expect(d.score).toBeCloseTo(0.72, 5);
    // cx = (0.5 + 2) * 8 = 20, cy = (0.25 + 1) * 8 = 10, w = 2 * 8 = 16, h = 1 * 8 = 8.
    expect(d.box.x1).toBeCloseTo(12, 5);
    expect(d.box.x2).toBeCloseTo(28, 5);
    expect(d.box.y1).toBeCloseTo(6, 5);
    expect(d.box.y2).toBeCloseTo(14, 5);
  });

  it('NanoDet: softmax-expected distances around the (s - 1) / 2 centre', () => {
    const regMax = 7;
    const bins = regMax + 1;
    // 16x16 input, one stride of 8 -> 2x2 cells.
    const cls = new Float32Array(4 * 3);
    cls[3 * 3 + 2] = 0.9; // cell 3 (gx = 1, gy = 1): truck
    const dis = new Float32Array(4 * 4 * bins).fill(-50);
    const side = (cell: number, s: number, values: number[]) => values.forEach((v, b) => (dis[cell * 4 * bins + s * bins + b] = v));
    side(3, 0, [0, 0, 20, 0, 0, 0, 0, 0]); // left = 2 bins
    side(3, 1, [0, 20, 0, 0, 0, 0, 0, 0]); // top = 1 bin
    side(3, 2, [0, 0, 0, 20, 0, 0, 0, 0]); // right = 3 bins
    side(3, 3, [0, 0, 0, 0, 0, 0, 0, 0]); // bottom = uniform -> 3.5 bins
    const dets = decodeNanodet([{ data: cls, dims: [1, 4, 3] }], [{ data: dis, dims: [1, 4, 32] }], [8], regMax, {
      inputWidth: 16, inputHeight: 16, classes, scoreThreshold: 0.5,
    });
    expect(dets).toHaveLength(1);
    const c = 1 * 8 + 3.5; // gx * s + (s - 1) / 2
    expect(dets[0].label).toBe('truck');
    expect(dets[0].box.x1).toBeCloseTo(c - 16, 3);
    expect(dets[0].box.y1).toBeCloseTo(c - 8, 3);
    expect(dets[0].box.x2).toBeCloseTo(c + 24, 3);
    expect(dets[0].box.y2).toBeCloseTo(c + 28, 3);
  });

  it('YOLOv8: channels-first and channels-last give the same box', () => {
    const n = 3;
    const anchor = [100, 50, 20, 10, 0.1, 0.2, 0.95];
    const first = new Float32Array(7 * n);
    const last = new Float32Array(7 * n);
    anchor.forEach((v, k) => {
      first[k * n + 1] = v;
      last[1 * 7 + k] = v;
    });
    const opts = { inputWidth: 640, inputHeight: 640, classes, scoreThreshold: 0.25 };
    for (const dets of [decodeYolov8({ data: first, dims: [1, 7, n] }, opts), decodeYolov8({ data: last, dims: [1, n, 7] }, opts)]) {
      expect(dets).toHaveLength(1);
      expect(dets[0]).toMatchObject({ label: 'truck', box: { x1: 90, y1: 45, x2: 110, y2: 55 } });
      expect(dets[0].score).toBeCloseTo(0.95, 5);
    }
    expect(() => decodeYolov8({ data: first, dims: [1, 9, n] }, opts)).toThrow(/expected/);
  });
});
