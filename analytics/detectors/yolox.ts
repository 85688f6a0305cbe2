import type { Detection } from '../types.js';
import type { DecodeOptions, OutputTensor } from './tensor.js';

/**
 * YOLOX head output [B, N, 5 + C]: rows are the grids of each stride in order (row-major, y outer),
 * each row tx, ty, tw, th, obj, C class scores (obj and classes already sigmoid).
 * cx = (tx + gx) * s, cy = (ty + gy) * s, w = exp(tw) * s, h = exp(th) * s; score = obj * class.
 * Boxes are returned in model-input pixels; the caller runs NMS and undoes the letterbox.
 */
export function decodeYolox(out: OutputTensor, strides: readonly number[], opts: DecodeOptions): Detection[] {
  const numClasses = opts.classes.length;
  const rowLen = 5 + numClasses;
  const [, rows, cols] = out.dims;
  if (cols !== rowLen) throw new Error(`yolox output has ${cols} values per row, manifest implies ${rowLen} (${numClasses} classes)`);
  let expectedRows = 0;
  for (const s of strides) expectedRows += Math.floor(opts.inputWidth / s) * Math.floor(opts.inputHeight / s);
  if (rows !== expectedRows) throw new Error(`yolox output has ${rows} rows, strides ${strides.join('/')} on ${opts.inputWidth}x${opts.inputHeight} give ${expectedRows}`);

  const data = out.data;
  const base = (opts.batchIndex ?? 0) * rows * rowLen;
  const dets: Detection[] = [];
  let row = 0;
  for (const s of strides) {
    const gw = Math.floor(opts.inputWidth / s);
    const gh = Math.floor(opts.inputHeight / s);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const o = base + row * rowLen;
        const obj = data[o + 4];
        // score = obj * class <= obj: most rows end here, which keeps decoding well under a millisecond.
        if (obj < opts.scoreThreshold) continue;
        let best = 0;
        let bestCls = -1;
        for (let c = 0; c < numClasses; c++) {
          const v = data[o + 5 + c];
          if (v > best) {
            best = v;
            bestCls = c;
          }
        }
        const score = obj * best;
        if (bestCls < 0 || score < opts.scoreThreshold) continue;
        const cx = (data[o] + gx) * s;
        const cy = (data[o + 1] + gy) * s;
        const w = Math.exp(data[o + 2]) * s;
        const h = Math.exp(data[o + 3]) * s;
        dets.push({
          box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 },
          score,
          classId: bestCls,
          label: opts.classes[bestCls],
        });
      }
    }
  }
  return dets;
}
