import type { Box } from './types.js';
import type { RawImage } from './preprocess.js';

/** A small grey picture of a frame: each cell is the mean of 4 samples of its block. */
export interface GreyThumb {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Box-sampled grey thumbnail; pure JS because a sharp round-trip costs more than the whole gate. */
export function greyThumb(frame: RawImage, width = 80): GreyThumb {
  const w = Math.min(width, frame.width);
  const h = Math.max(1, Math.round((frame.height * w) / frame.width));
  const data = new Uint8Array(w * h);
  const sx = frame.width / w;
  const sy = frame.height / h;
  const rgb = frame.rgb;
  const stride = frame.width * 3;
  for (let y = 0; y < h; y++) {
    const ya = Math.min(frame.height - 1, Math.floor((y + 0.25) * sy));
    const yb = Math.min(frame.height - 1, Math.floor((y + 0.75) * sy));
    for (let x = 0; x < w; x++) {
      const xa = Math.min(frame.width - 1, Math.floor((x + 0.25) * sx)) * 3;
      const xb = Math.min(frame.width - 1, Math.floor((x + 0.75) * sx)) * 3;
      let sum = 0;
      for (const o of [ya * stride + xa, ya * stride + xb, yb * stride + xa, yb * stride + xb]) {
        // Integer luma approximation (0.299, 0.587, 0.114).
        sum += (rgb[o] * 77 + rgb[o + 1] * 150 + rgb[o + 2] * 29) >> 8;
      }
      data[y * w + x] = sum >> 2;
    }
  }
  return { width: w, height: h, data };
}

export interface MotionGateOptions {
  /** Thumbnail width in cells. */
  thumbWidth: number;
  /** Grey-level difference (0..255) that counts a cell as changed. */
  pixelThreshold: number;
  /** Fraction of a region's cells that must change to wake inference. */
  minChangedFraction: number;
  /** Run inference at least this often even on a static scene (seconds of video time); keep it below the stay grace period. */
  maxSkipSeconds: number;
}

export const DEFAULT_MOTION_OPTIONS: MotionGateOptions = {
  thumbWidth: 80,
  pixelThreshold: 18,
  minChangedFraction: 0.004,
  maxSkipSeconds: 20,
};

/**
 * Skips inference on regions that have not changed since they were last looked at. Comparing with the
 * thumbnail of the last inference (not the previous frame) catches slow changes that build up.
 */
export class MotionGate {
  private readonly refs = new Map<string, { thumb: GreyThumb; ts: number }>();

  constructor(readonly opts: MotionGateOptions = DEFAULT_MOTION_OPTIONS) {}

  /**
   * True when `region` (normalised 0..1 box) should be analysed now; the thumbnail then becomes that
   * region's new reference.
   */
  shouldRun(key: string, thumb: GreyThumb, region: Box, ts: number): boolean {
    const ref = this.refs.get(key);
    let run = true;
    if (ref && ref.thumb.width === thumb.width && ref.thumb.height === thumb.height && ts - ref.ts < this.opts.maxSkipSeconds * 1000) {
      run = changedFraction(ref.thumb, thumb, region, this.opts.pixelThreshold) >= this.opts.minChangedFraction;
    }
    if (run) this.refs.set(key, { thumb, ts });
    return run;
  }

  forget(key: string): void {
    this.refs.delete(key);
  }
}

export function changedFraction(a: GreyThumb, b: GreyThumb, region: Box, threshold: number): number {
  const x1 = Math.max(0, Math.floor(region.x1 * a.width));
  const y1 = Math.max(0, Math.floor(region.y1 * a.height));
  const x2 = Math.min(a.width, Math.ceil(region.x2 * a.width));
  const y2 = Math.min(a.height, Math.ceil(region.y2 * a.height));
  let changed = 0;
  let total = 0;
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++, total++) {
      const i = y * a.width + x;
      if (Math.abs(a.data[i] - b.data[i]) > threshold) changed++;
    }
  }
  return total ? changed / total : 0;
}
