import type { Detection } from '../types.js';
import type { DecodeOptions, OutputTensor } from './tensor.js';

/**
 * Ultralytics-style head: [B, 4 + C, N] (channels first, the usual export) or [B, N, 4 + C];
 * each anchor cx, cy, w, h in model-input pixels then C class scores (sigmoid applied, no objectness).
 */
export function decodeYolov8(out: OutputTensor, opts: DecodeOptions): Detection[] {
  const numClasses = opts.classes.length;
  const ch = 4 + numClasses;
  const [, a, b] = out.dims;
  let channelsFirst: boolean;
  if (a === ch) channelsFirst = true;
  else if (b === ch) channelsFirst = false;
  else throw new Error(`yolov8 output is [${out.dims}], expected [B,${ch},N] or [B,N,${ch}] for ${numClasses} classes`);
  const n = channelsFirst ? b : a;
  const base = (opts.batchIndex ?? 0) * n * ch;
  const at = channelsFirst ? (i: number, k: number) => out.data[base + k * n + i] : (i: number, k: number) => out.data[base + i * ch + k];
  const dets: Detection[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestCls = -1;
    for (let k = 0; k < numClasses; k++) {
      const v = at(i, 4 + k);
      if (v > best) {
        best = v;
        bestCls = k;
      }
    }
    if (bestCls < 0 || best < opts.scoreThreshold) continue;
    const cx = at(i, 0);
    const cy = at(i, 1);
    const w = at(i, 2);
    const h = at(i, 3);
    dets.push({ box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, score: best, classId: bestCls, label: opts.classes[bestCls] });
  }
  return dets;
}
