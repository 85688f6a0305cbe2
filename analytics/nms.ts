import { iou, type Detection } from './types.js';

/**
 * Greedy non-maximum suppression. Per class by default (as YOLOX and NanoDet were evaluated);
 * classAgnostic merges a van seen as both "car" and "truck" into one box.
 */
export function nms(dets: Detection[], iouThreshold: number, opts: { classAgnostic?: boolean; maxDetections?: number } = {}): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  const suppressed = new Uint8Array(sorted.length);
  const max = opts.maxDetections ?? 300;
  for (let i = 0; i < sorted.length && kept.length < max; i++) {
    if (suppressed[i]) continue;
    const a = sorted[i];
    kept.push(a);
    for (let j = i + 1; j < sorted.length; j++) {
      if (suppressed[j]) continue;
      const b = sorted[j];
      if (!opts.classAgnostic && a.classId !== b.classId) continue;
      if (iou(a.box, b.box) > iouThreshold) suppressed[j] = 1;
    }
  }
  return kept;
}
