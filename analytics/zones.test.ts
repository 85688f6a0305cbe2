import { describe, expect, it } from 'vitest';
import { boxInZone, boxZoneOverlap, pointInPolygon, validatePolygon } from './zones.js';

describe('zones', () => {
  it('accepts a simple polygon in 0..1', () => {
    const r = validatePolygon([[0.1, 0.1], [0.9, 0.1], [0.9, 0.5], [0.1, 0.6]]);
    expect(r.errors).toEqual([]);
    expect(r.polygon).toHaveLength(4);
  });

  it('refuses a self-intersecting (bow-tie) polygon', () => {
    const r = validatePolygon([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]);
    expect(r.polygon).toBeUndefined();
    expect(r.errors[0].message).toMatch(/self-intersecting/);
  });

  it('refuses points outside 0..1, with the offending point named', () => {
    const r = validatePolygon([[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]]);
    expect(r.errors).toEqual([{ field: 'zone[1]', message: expect.stringMatching(/0\.\.1/) }]);
  });

  it('refuses fewer than three points, non-numbers and degenerate polygons', () => {
    expect(validatePolygon([[0, 0], [1, 1]]).errors[0].message).toMatch(/at least 3/);
    expect(validatePolygon([[0, 0], [1, 'a'], [0.5, 0.5]]).errors[0].field).toBe('zone[1]');
    expect(validatePolygon([[0, 0], [0.5, 0.5], [1, 1]]).errors[0].message).toMatch(/no area/);
    expect(validatePolygon('nope').errors).toHaveLength(1);
  });

  it('tests points and boxes against a zone', () => {
    const tri: [number, number][] = [[0, 0], [100, 0], [0, 100]];
    expect(pointInPolygon(10, 10, tri)).toBe(true);
    expect(pointInPolygon(60, 60, tri)).toBe(false);
    // Ground contact (bottom centre) inside although most of the box sticks out above the zone.
    const zone: [number, number][] = [[0, 50], [100, 50], [100, 100], [0, 100]];
    expect(boxInZone({ x1: 40, y1: 0, x2: 60, y2: 60 }, zone)).toBe(true);
    expect(boxInZone({ x1: 40, y1: 0, x2: 60, y2: 40 }, zone)).toBe(false);
    expect(boxZoneOverlap({ x1: 0, y1: 0, x2: 100, y2: 100 }, zone)).toBeCloseTo(0.5, 1);
  });
});
