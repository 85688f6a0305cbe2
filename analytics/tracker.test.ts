import { describe, expect, it } from 'vitest';
import { IouTracker } from './tracker.js';
import type { Detection } from './types.js';

const det = (x: number, y: number, score = 0.8, label = 'car', w = 40, h = 30): Detection => ({ box: { x1: x, y1: y, x2: x + w, y2: y + h }, score, classId: 0, label });
const opts = { highScore: 0.5, matchIou: 0.3, maxAgeSeconds: 3, stationaryTolerance: 0.25 };

describe('IouTracker', () => {
  it('keeps ids across frames for moving and parked objects and gives new objects new ids', () => {
    const t = new IouTracker(opts);
    const a = t.update([det(0, 0), det(200, 200)], 0);
    expect(a.map((x) => x.id)).toEqual([1, 2]);
    const b = t.update([det(205, 201), det(6, 2)], 1000);
    expect(b.find((x) => x.box.x1 === 6)?.id).toBe(1);
    expect(b.find((x) => x.box.x1 === 205)?.id).toBe(2);
    const c = t.update([det(12, 3), det(206, 200), det(400, 400)], 2000);
    expect(c.map((x) => x.id).sort()).toEqual([1, 2, 3]);
  });

  it('measures how long an object has stood still and restarts when it moves off', () => {
    const t = new IouTracker(opts);
    t.update([det(100, 100)], 0);
    t.update([det(102, 101)], 1000); // jitter within tolerance
    let [tr] = t.update([det(101, 99)], 5000);
    expect(tr.stationarySince).toBe(0);
    [tr] = t.update([det(115, 100)], 6000); // 15 px > 0.25 * sqrt(40 * 30) ~ 8.7
    expect(tr.id).toBe(1);
    expect(tr.stationarySince).toBe(6000);
  });

  it('lets weak detections extend a track but not start one (ByteTrack buckets)', () => {
    const t = new IouTracker(opts);
    expect(t.update([det(0, 0, 0.3)], 0)).toHaveLength(0);
    t.update([det(0, 0, 0.9)], 1000);
    const [tr] = t.update([det(1, 0, 0.3)], 2000);
    expect(tr).toMatchObject({ id: 1, lastSeen: 2000, hits: 2 });
    // the weak detection is the latest score; the peak is what started the track (what a candidate reports)
    expect(tr).toMatchObject({ score: 0.3, peakScore: 0.9 });
  });

  it('survives a short occlusion and forgets a track after maxAge', () => {
    const t = new IouTracker(opts);
    t.update([det(0, 0)], 0);
    expect(t.update([], 2000)).toHaveLength(1);
    expect(t.update([det(1, 1)], 2500)[0].id).toBe(1);
    expect(t.update([], 6000)).toHaveLength(0);
  });

  it('settles on the most confident label when a van flickers between car and truck', () => {
    const t = new IouTracker(opts);
    t.update([det(0, 0, 0.7, 'truck')], 0);
    t.update([det(0, 0, 0.6, 'car')], 1000);
    const [tr] = t.update([det(0, 0, 0.69, 'truck')], 2000);
    expect(tr.label).toBe('truck');
  });

  it('holds tracks through frames the motion gate skipped', () => {
    const t = new IouTracker(opts);
    t.update([det(0, 0)], 0);
    t.update([det(0, 0), det(200, 200)], 1000);
    t.update([det(0, 0)], 2000); // the second object is gone at the last observation
    const held = t.hold(10_000);
    expect(held.find((x) => x.id === 1)?.lastSeen).toBe(10_000);
    expect(held.find((x) => x.id === 2)).toBeUndefined(); // missing since 1 s: aged out, not kept alive by the gate
    expect(t.update([], 11_000)).toHaveLength(1);
  });
});
