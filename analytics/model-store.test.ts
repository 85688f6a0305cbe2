import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { ModelStore } from './model-store.js';
import { manifestsDir, modelsDir, silentLogger } from './test-helpers.js';
import { chooseProviders } from './providers.js';
import yoloxManifest from '../models/yolox_nano.json' with { type: 'json' };

describe('model store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-models-'));
    // Corrupt weights under the right name must be caught by the checksum, not by a crash in onnxruntime.
    await writeFile(join(dir, 'yolox_nano.onnx'), 'not a model');
    await copyFile(join(modelsDir, 'nanodet_m_416.onnx'), join(dir, 'nanodet_m_416.onnx'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports missing weights and bad checksums clearly and loads nothing for them', async () => {
    const store = new ModelStore({ manifestsDir, weightDirs: [join(dir, 'none'), dir], logger: silentLogger, warmupRuns: 1 });
    const states = await store.init();
    const byId = Object.fromEntries(states.map((s) => [s.id, s]));
    expect(byId.yolox_nano.status).toBe('bad-checksum');
    expect(byId.yolox_nano.message).toMatch(/sha256/);
    expect(byId.yolov8.status).toBe('missing');
    expect(byId.yolov8.message).toMatch(/yolov8\.onnx not found/);
    expect(byId.nanodet_m_416.status).toBe('available');
    expect(await store.load('yolox_nano')).toBeNull();
    expect(await store.load('yolov8')).toBeNull();
  });

  it('reports warm-up progress up to ready', async () => {
    const store = new ModelStore({ manifestsDir, weightDirs: [dir], logger: silentLogger, warmupRuns: 2 });
    await store.init();
    const progress: number[] = [];
    const detector = await store.load('nanodet_m_416', (p) => progress.push(p.done));
    expect(progress).toEqual([1, 2]);
    expect(store.state('nanodet_m_416')?.status).toBe('ready');
    await detector?.release();
  });

  it('validates manifests strictly', () => {
    expect(parseManifest(yoloxManifest).input.letterbox).toBe('top-left');
    expect(() => parseManifest({ ...yoloxManifest, colour: 'red' })).toThrow(/colour: unknown key/);
    expect(() => parseManifest({ ...yoloxManifest, sha256: 'abc' })).toThrow(/sha256/);
    expect(() => parseManifest({ ...yoloxManifest, input: { ...yoloxManifest.input, std: [1, 0, 1] } })).toThrow(/input.std\[1\]/);
    expect(() => parseManifest({ ...yoloxManifest, decoder: { kind: 'yolox', strides: [8], regMax: 7 } })).toThrow(/decoder.regMax/);
  });

  it('chooses providers explicitly: CUDA only when configured and present', () => {
    expect(chooseProviders('cpu', () => true).providers).toEqual(['cpu']);
    expect(chooseProviders('cuda', () => true).providers).toEqual(['cuda', 'cpu']);
    expect(chooseProviders('cuda', () => false)).toMatchObject({ providers: ['cpu'], reason: expect.stringMatching(/not available/) });
  });
});
