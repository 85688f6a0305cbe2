import { describe, expect, it } from 'vitest';
import { InferenceBatcher } from './batcher.js';
import type { Detector } from './detector.js';
import type { Detection } from './types.js';
import { silentLogger } from './test-helpers.js';

/** A detector stand-in that records the batch sizes it was given and echoes each input's first value. */
function fakeDetector(maxBatch: number) {
  const calls: number[] = [];
  const detector = {
    manifest: { id: 'fake' },
    maxBatch,
    async detect(inputs: Float32Array[]): Promise<Detection[][]> {
      calls.push(inputs.length);
      await new Promise((r) => setTimeout(r, 5));
      return inputs.map((x) => [{ box: { x1: 0, y1: 0, x2: 1, y2: 1 }, score: x[0], classId: 0, label: 'x' }]);
    },
  } as unknown as Detector;
  return { detector, calls };
}

describe('InferenceBatcher', () => {
  it('collects crops submitted together into one run, up to the batch size, and answers each in order', async () => {
    const { detector, calls } = fakeDetector(4);
    const b = new InferenceBatcher(detector, { maxBatch: 8, maxWaitMs: 0 }, silentLogger);
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((v) => b.submit(Float32Array.of(v))));
    expect(results.map((r) => r[0].score)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls).toEqual([4, 2]);
    expect(b.stats).toEqual({ runs: 2, images: 6 });
    b.stop();
  });

  it('runs one image per call for a model with a fixed batch axis of 1', async () => {
    const { detector, calls } = fakeDetector(1);
    const b = new InferenceBatcher(detector, { maxBatch: 8, maxWaitMs: 2 }, silentLogger);
    await Promise.all([1, 2, 3].map((v) => b.submit(Float32Array.of(v))));
    expect(calls).toEqual([1, 1, 1]);
    b.stop();
    await expect(b.submit(Float32Array.of(1))).rejects.toThrow(/stopped/);
  });
});
