import { describe, expect, it } from 'vitest';
import { nms } from './nms.js';
import { iou, type Detection } from './types.js';

const det = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Detection => ({ box: { x1, y1, x2, y2 }, score, classId, label: String(classId) });

describe('nms', () => {
  it('computes IoU', () => {
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 5, y1: 0, x2: 15, y2: 10 })).toBeCloseTo(50 / 150, 6);
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 10, y1: 10, x2: 20, y2: 20 })).toBe(0);
  });

  it('keeps the best of overlapping boxes per class and leaves other classes alone', () => {
    const kept = nms([det(0, 0, 10, 10, 0.6), det(1, 1, 11, 11, 0.9), det(50, 50, 60, 60, 0.5), det(1, 1, 11, 11, 0.7, 1)], 0.45);
    expect(kept.map((d) => d.score)).toEqual([0.9, 0.7, 0.5]);
  });

  it('merges across classes when asked (a van seen as car and truck)', () => {
    const kept = nms([det(0, 0, 10, 10, 0.69, 2), det(0, 0, 10, 9, 0.61, 1)], 0.45, { classAgnostic: true });
    expect(kept).toHaveLength(1);
    expect(kept[0].classId).toBe(2);
  });

  it('keeps boxes that overlap less than the threshold', () => {
    expect(nms([det(0, 0, 10, 10, 0.9), det(6, 0, 16, 10, 0.8)], 0.45)).toHaveLength(2);
  });
});
