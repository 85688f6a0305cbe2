import type { Detection } from '../types.js';
import type { DecodeOptions, OutputTensor } from './tensor.js';

/**
 * NanoDet (GFL head) outputs per stride: cls [B, N, C] (sigmoid applied) and dis [B, N, 4 * (regMax + 1)]:
 * four sides (left, top, right, bottom) x (regMax + 1) bins. Distance = softmax-expected bin x stride;
 * centre = (gx * s + (s - 1) / 2, gy * s + (s - 1) / 2); box = centre -/+ distances. Model-input pixels.
 */
export function decodeNanodet(
  cls: readonly OutputTensor[],
  dis: readonly OutputTensor[],
  strides: readonly number[],
  regMax: number,
  opts: DecodeOptions,
): Detection[] {
  const numClasses = opts.classes.length;
  const bins = regMax + 1;
  const dets: Detection[] = [];
  const probs = new Float64Array(bins);
  strides.forEach((s, level) => {
    const c = cls[level];
    const d = dis[level];
    const gw = Math.ceil(opts.inputWidth / s);
    const gh = Math.ceil(opts.inputHeight / s);
    const n = gw * gh;
    if (c.dims[1] !== n || c.dims[2] !== numClasses) throw new Error(`nanodet cls output of stride ${s} is [${c.dims}], expected [B,${n},${numClasses}]`);
    if (d.dims[1] !== n || d.dims[2] !== 4 * bins) throw new Error(`nanodet dis output of stride ${s} is [${d.dims}], expected [B,${n},${4 * bins}]`);
    const cBase = (opts.batchIndex ?? 0) * n * numClasses;
    const dBase = (opts.batchIndex ?? 0) * n * 4 * bins;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestCls = -1;
      const co = cBase + i * numClasses;
      for (let k = 0; k < numClasses; k++) {
        const v = c.data[co + k];
        if (v > best) {
          best = v;
          bestCls = k;
        }
      }
      if (bestCls < 0 || best < opts.scoreThreshold) continue;
      const gx = i % gw;
      const gy = Math.floor(i / gw);
      const cx = gx * s + (s - 1) / 2;
      const cy = gy * s + (s - 1) / 2;
      const dist = [0, 0, 0, 0];
      for (let side = 0; side < 4; side++) {
        const o = dBase + i * 4 * bins + side * bins;
        let max = -Infinity;
        for (let b = 0; b < bins; b++) max = Math.max(max, d.data[o + b]);
        let sum = 0;
        for (let b = 0; b < bins; b++) {
          probs[b] = Math.exp(d.data[o + b] - max);
          sum += probs[b];
        }
        let expected = 0;
        for (let b = 0; b < bins; b++) expected += (b * probs[b]) / sum;
        dist[side] = expected * s;
      }
      dets.push({
        box: { x1: cx - dist[0], y1: cy - dist[1], x2: cx + dist[2], y2: cy + dist[3] },
        score: best,
        classId: bestCls,
        label: opts.classes[bestCls],
      });
    }
  });
  return dets;
}
