import type { Box, Point, Polygon } from './types.js';
import type { FieldError } from './validate.js';

/**
 * Zones are polygons in normalised 0..1 frame coordinates (x right, y down), so a rule survives a change
 * of sub-stream resolution. Validation returns per-field errors for the API's 4xx answer.
 */
export function validatePolygon(raw: unknown, field = 'zone'): { polygon?: Polygon; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!Array.isArray(raw)) return { errors: [{ field, message: 'must be an array of [x, y] points' }] };
  if (raw.length < 3) return { errors: [{ field, message: 'needs at least 3 points' }] };
  if (raw.length > 64) return { errors: [{ field, message: 'has more than 64 points' }] };
  const polygon: Polygon = [];
  raw.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      errors.push({ field: `${field}[${i}]`, message: 'must be [x, y] with finite numbers' });
      return;
    }
    const [x, y] = p as [number, number];
    if (x < 0 || x > 1 || y < 0 || y > 1) errors.push({ field: `${field}[${i}]`, message: 'coordinates must be within 0..1 (normalised to the frame)' });
    polygon.push([x, y]);
  });
  if (errors.length) return { errors };
  const crossing = firstSelfIntersection(polygon);
  if (crossing) errors.push({ field, message: `is self-intersecting (edges ${crossing[0]} and ${crossing[1]} cross)` });
  else if (Math.abs(signedArea(polygon)) < 1e-6) errors.push({ field, message: 'has no area (points are collinear or repeated)' });
  return errors.length ? { errors } : { polygon, errors };
}

export function signedArea(poly: Polygon): number {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x1, y1] = poly[i];
    const [x2, y2] = poly[(i + 1) % poly.length];
    a += x1 * y2 - x2 * y1;
  }
  return a / 2;
}

/** Indices of two non-adjacent edges that touch or cross, or null for a simple polygon. */
export function firstSelfIntersection(poly: Polygon): [number, number] | null {
  const n = poly.length;
  for (let i = 0; i < n; i++) {
    const a1 = poly[i];
    const a2 = poly[(i + 1) % n];
    for (let j = i + 1; j < n; j++) {
      // Adjacent edges share a vertex by construction.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsIntersect(a1, a2, poly[j], poly[(j + 1) % n])) return [i, j];
    }
  }
  return null;
}

function orient(a: Point, b: Point, c: Point): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return Math.abs(v) < 1e-12 ? 0 : Math.sign(v);
}

function onSegment(a: Point, b: Point, p: Point): boolean {
  return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
}

export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const o1 = orient(p1, p2, q1);
  const o2 = orient(p1, p2, q2);
  const o3 = orient(q1, q2, p1);
  const o4 = orient(q1, q2, p2);
  if (o1 !== o2 && o3 !== o4) return true;
  if (o1 === 0 && onSegment(p1, p2, q1)) return true;
  if (o2 === 0 && onSegment(p1, p2, q2)) return true;
  if (o3 === 0 && onSegment(q1, q2, p1)) return true;
  if (o4 === 0 && onSegment(q1, q2, p2)) return true;
  return false;
}

/** Even-odd ray casting; points on the boundary may fall either way, which is fine for zones. */
export function pointInPolygon(x: number, y: number, poly: Polygon): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Polygon scaled from 0..1 to the pixels of a frame. */
export function toPixels(poly: Polygon, width: number, height: number): Polygon {
  return poly.map(([x, y]) => [x * width, y * height]);
}

/** Bounding box of a polygon, in the polygon's own units. */
export function polygonBounds(poly: Polygon): Box {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const [x, y] of poly) {
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  }
  return { x1, y1, x2, y2 };
}

/**
 * Whether a detection belongs to a zone (both in pixels). The ground-contact point (bottom centre) is what
 * says where an object stands on an oblique CCTV view; the centre covers top-down views.
 */
export function boxInZone(b: Box, poly: Polygon): boolean {
  const cx = (b.x1 + b.x2) / 2;
  return pointInPolygon(cx, b.y2 - 0.02 * (b.y2 - b.y1), poly) || pointInPolygon(cx, (b.y1 + b.y2) / 2, poly);
}

/** Fraction of the box's area that lies inside the polygon, estimated on a small sample grid. */
export function boxZoneOverlap(b: Box, poly: Polygon, samples = 8): number {
  let inside = 0;
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  if (w <= 0 || h <= 0) return 0;
  for (let i = 0; i < samples; i++) {
    for (let j = 0; j < samples; j++) {
      if (pointInPolygon(b.x1 + ((i + 0.5) * w) / samples, b.y1 + ((j + 0.5) * h) / samples, poly)) inside++;
    }
  }
  return inside / (samples * samples);
}

/** Rasterises a pixel polygon to a mask of width x height cells (1 = inside), sampled at cell centres. */
export function polygonMask(poly: Polygon, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (pointInPolygon(x + 0.5, y + 0.5, poly)) mask[y * width + x] = 1;
  }
  return mask;
}
