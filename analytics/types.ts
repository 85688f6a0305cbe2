/** Axis-aligned box in pixels of whatever image it refers to (x2/y2 exclusive edges). */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Detection {
  box: Box;
  score: number;
  classId: number;
  /** Class name from the manifest, or 'foreground' for the class-agnostic detector. */
  label: string;
}

/** A decoded frame as the pipeline consumes it (the one frame type, shared with ingest's frame tap). */
export type { RgbFrame } from '../media-tools/rgb-decoder.js';

export type Point = [number, number];
export type Polygon = Point[];

export function boxArea(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (boxArea(a) + boxArea(b) - inter);
}
