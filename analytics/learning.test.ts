import { describe, expect, it } from 'vitest';
import { regionFromRejection, suggestSpots, suggestThresholds, type ReviewedCandidate } from './learning.js';

const box = (x: number) => ({ x1: x, y1: 0.5, x2: x + 0.1, y2: 0.6 });
const rev = (id: string, status: 'confirmed' | 'rejected', stayedSeconds: number, over: Partial<ReviewedCandidate> = {}): ReviewedCandidate => ({
  id, status, reason: status === 'rejected' ? 'misdetection' : null, box: box(0.1), score: 0.8, count: 1, stayedSeconds, ...over,
});

describe('learning from reviews', () => {
  it('suggests the strictest min dwell that keeps every confirmation, with how many rejections it removes', () => {
    const reviewed = [
      ...[130, 150, 170, 200, 230, 235, 236, 238, 300].map((s, i) => rev(`r${i}`, 'rejected', s)),
      ...[245, 260, 400, 900, 1200].map((s, i) => rev(`c${i}`, 'confirmed', s)),
    ];
    const all = suggestThresholds({ minDwellSeconds: 120, minScore: 0.4, minArea: 0, minCount: 1 }, reviewed);
    expect(all.map((s) => s.field)).toEqual(['minDwellSeconds']);
    const dwell = all[0];
    expect(dwell).toMatchObject({ field: 'minDwellSeconds', suggested: 240, removesRejected: 8, rejected: 9, keepsConfirmed: 5, confirmed: 5 });
    expect(dwell.message.en).toBe('raise min dwell to 240 s: would have removed 8 of 9 rejections and kept all 5 confirmations');
    expect(dwell.message.zh).toBe('将最短停留提高到 240 s：可去掉 9 次驳回中的 8 次，保留全部 5 次确认');
  });

  it('suggests nothing without confirmations or with too few reviews', () => {
    expect(suggestThresholds({ minDwellSeconds: 60, minScore: 0.4, minArea: 0, minCount: 1 }, [rev('a', 'rejected', 10), rev('b', 'rejected', 20), rev('c', 'rejected', 30), rev('d', 'rejected', 40), rev('e', 'rejected', 50)])).toEqual([]);
    expect(suggestThresholds({ minDwellSeconds: 60, minScore: 0.4, minArea: 0, minCount: 1 }, [rev('a', 'rejected', 10), rev('b', 'confirmed', 200)])).toEqual([]);
  });

  it('suggests a region where the same spot is rejected again and again, not where a confirmation stands', () => {
    const reviewed = [
      rev('a', 'rejected', 100, { box: box(0.1), reason: 'permanent_object' }),
      rev('b', 'rejected', 100, { box: box(0.105) }),
      rev('c', 'rejected', 100, { box: box(0.11) }),
      rev('d', 'rejected', 100, { box: box(0.6) }),
      rev('e', 'rejected', 100, { box: box(0.61) }),
      rev('f', 'rejected', 100, { box: box(0.62) }),
      rev('g', 'confirmed', 100, { box: box(0.6) }),
    ];
    const spots = suggestSpots(reviewed, []);
    expect(spots).toHaveLength(1);
    expect(spots[0]).toMatchObject({ rejections: 3, reasons: { permanent_object: 1, misdetection: 2 } });
    expect(spots[0].box.x1).toBeLessThan(0.1);
    // once a region covers it, it is no longer suggested
    expect(suggestSpots(reviewed, [regionFromRejection(box(0.105))])).toEqual([]);
  });
});
