import type { RawImage } from './preprocess.js';
import type { Box, Detection, Polygon } from './types.js';
import { polygonBounds, polygonMask } from './zones.js';

export interface ForegroundOptions {
  /** Time constant of the fast background (what the scene looks like right now), seconds. */
  fastSeconds: number;
  /** Time constant with which the long-term background follows slow changes (light), seconds. */
  slowSeconds: number;
  /** Grey-level difference that separates foreground from background. */
  threshold: number;
  /** A static object is folded into the background after this long (it would otherwise stay forever). */
  absorbSeconds: number;
  /** Blobs smaller than this many cells are noise. */
  minCells: number;
  /** The zone's bounding box is sampled on a grid at most this many cells wide. */
  maxGridWidth: number;
}

export const DEFAULT_FOREGROUND_OPTIONS: ForegroundOptions = {
  fastSeconds: 2,
  slowSeconds: 60,
  threshold: 28,
  absorbSeconds: 3 * 3600,
  minCells: 6,
  maxGridWidth: 96,
};

/**
 * Class-agnostic left-object detector for one zone (garbage, bins, piled materials: classes no model has).
 * Two running-average backgrounds: a cell that matches the fast one (it is not moving) but not the slow one
 * (it was not there before) is stationary foreground. The slow background is frozen under foreground so a
 * heap stays detected until it is removed (or absorbSeconds pass). Blobs come out as detections labelled
 * 'foreground' and go through the same tracker / dwell / stay logic as model detections.
 */
export class StationaryForeground {
  private readonly cell: number;
  private readonly gx: number;
  private readonly gy: number;
  private readonly left: number;
  private readonly top: number;
  private readonly mask: Uint8Array;
  private fast: Float32Array | null = null;
  private slow: Float32Array | null = null;
  private staticSince: Float64Array;
  private lastTs = 0;

  constructor(
    zone: Polygon,
    readonly frameWidth: number,
    readonly frameHeight: number,
    private readonly opts: ForegroundOptions = DEFAULT_FOREGROUND_OPTIONS,
  ) {
    const px: Polygon = zone.map(([x, y]) => [x * frameWidth, y * frameHeight]);
    const b = polygonBounds(px);
    this.left = Math.max(0, Math.floor(b.x1));
    this.top = Math.max(0, Math.floor(b.y1));
    const w = Math.max(1, Math.min(frameWidth, Math.ceil(b.x2)) - this.left);
    const h = Math.max(1, Math.min(frameHeight, Math.ceil(b.y2)) - this.top);
    this.cell = Math.max(2, Math.ceil(w / opts.maxGridWidth));
    this.gx = Math.max(1, Math.floor(w / this.cell));
    this.gy = Math.max(1, Math.floor(h / this.cell));
    const local: Polygon = px.map(([x, y]) => [(x - this.left) / this.cell, (y - this.top) / this.cell]);
    this.mask = polygonMask(local, this.gx, this.gy);
    this.staticSince = new Float64Array(this.gx * this.gy).fill(-1);
  }

  update(frame: RawImage, ts: number): Detection[] {
    if (frame.width !== this.frameWidth || frame.height !== this.frameHeight) throw new Error('frame size changed; rebuild the foreground model');
    const grey = this.sample(frame);
    if (!this.fast || !this.slow) {
      this.fast = Float32Array.from(grey);
      this.slow = Float32Array.from(grey);
      this.lastTs = ts;
      return [];
    }
    const dt = Math.max(0, (ts - this.lastTs) / 1000);
    this.lastTs = ts;
    const aFast = 1 - Math.exp(-dt / this.opts.fastSeconds);
    const aSlow = 1 - Math.exp(-dt / this.opts.slowSeconds);
    const thr = this.opts.threshold;
    const isStatic = new Uint8Array(grey.length);
    const contrast = new Float32Array(grey.length);
    for (let i = 0; i < grey.length; i++) {
      if (!this.mask[i]) continue;
      const v = grey[i];
      const dFast = Math.abs(v - this.fast[i]);
      const dSlow = Math.abs(v - this.slow[i]);
      if (dSlow < thr) {
        this.slow[i] += aSlow * (v - this.slow[i]);
        this.staticSince[i] = -1;
      } else if (dFast < thr) {
        if (this.staticSince[i] < 0) this.staticSince[i] = ts;
        if (ts - this.staticSince[i] > this.opts.absorbSeconds * 1000) {
          this.slow[i] = v;
          this.staticSince[i] = -1;
        } else {
          isStatic[i] = 1;
          contrast[i] = dSlow;
        }
      }
      this.fast[i] += aFast * (v - this.fast[i]);
    }
    return this.blobs(isStatic, contrast);
  }

  private sample(frame: RawImage): Float32Array {
    const out = new Float32Array(this.gx * this.gy);
    const stride = frame.width * 3;
    const c = this.cell;
    const q1 = Math.floor(c / 4);
    const q3 = Math.min(c - 1, Math.floor((3 * c) / 4));
    for (let y = 0; y < this.gy; y++) {
      const y0 = this.top + y * c;
      for (let x = 0; x < this.gx; x++) {
        const x0 = this.left + x * c;
        let sum = 0;
        for (const [dx, dy] of [[q1, q1], [q3, q1], [q1, q3], [q3, q3]]) {
          const o = (y0 + dy) * stride + (x0 + dx) * 3;
          sum += 0.299 * frame.rgb[o] + 0.587 * frame.rgb[o + 1] + 0.114 * frame.rgb[o + 2];
        }
        out[y * this.gx + x] = sum / 4;
      }
    }
    return out;
  }

  /** 8-connected components of the static mask, as boxes in frame pixels. */
  private blobs(mask: Uint8Array, contrast: Float32Array): Detection[] {
    const labels = new Int32Array(mask.length);
    const out: Detection[] = [];
    const stack: number[] = [];
    let next = 0;
    for (let start = 0; start < mask.length; start++) {
      if (!mask[start] || labels[start]) continue;
      next++;
      labels[start] = next;
      stack.push(start);
      let cells = 0;
      let sumContrast = 0;
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
      while (stack.length) {
        const i = stack.pop()!;
        const x = i % this.gx;
        const y = (i - x) / this.gx;
        cells++;
        sumContrast += contrast[i];
        x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x); y2 = Math.max(y2, y);
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            const ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= this.gx || ny >= this.gy) continue;
            const j = ny * this.gx + nx;
            if (mask[j] && !labels[j]) {
              labels[j] = next;
              stack.push(j);
            }
          }
        }
      }
      if (cells < this.opts.minCells) continue;
      const box: Box = {
        x1: this.left + x1 * this.cell,
        y1: this.top + y1 * this.cell,
        x2: this.left + (x2 + 1) * this.cell,
        y2: this.top + (y2 + 1) * this.cell,
      };
      // Confidence grows with how strongly the blob differs from the background it covers.
      const score = Math.min(1, sumContrast / cells / (3 * this.opts.threshold));
      out.push({ box, score, classId: 0, label: 'foreground' });
    }
    return out;
  }
}
