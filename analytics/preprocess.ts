import sharp from 'sharp';
import type { InputSpec } from './manifest.js';
import type { Box } from './types.js';

/** Integer pixel rectangle of a frame. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** How model-input pixels map back to frame pixels: frame = (input - pad) / scale + offset. */
export interface LetterboxTransform {
  scale: number;
  padX: number;
  padY: number;
  offsetX: number;
  offsetY: number;
}

export interface PreparedInput {
  /** CHW float32 of one image, length 3 * width * height. */
  data: Float32Array;
  transform: LetterboxTransform;
}

export interface RawImage {
  width: number;
  height: number;
  rgb: Buffer;
}

/** Normalises, rounds and clamps a rectangle to the frame; null when nothing is left. */
export function clampRect(r: Rect, width: number, height: number): Rect | null {
  const left = Math.max(0, Math.floor(r.left));
  const top = Math.max(0, Math.floor(r.top));
  const right = Math.min(width, Math.ceil(r.left + r.width));
  const bottom = Math.min(height, Math.ceil(r.top + r.height));
  if (right - left < 2 || bottom - top < 2) return null;
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * Crops `rect` out of a packed RGB frame, resizes it keeping aspect (bilinear) to fit the model input and
 * letterboxes it as the manifest says (YOLOX: top-left paste on 114; NanoDet: centred, zero padding after
 * mean/std). Zone crops are what lets small objects survive the resize to 416.
 */
export async function prepareInput(
  frame: RawImage,
  rect: Rect,
  spec: InputSpec,
  inputWidth: number,
  inputHeight: number,
  target?: Float32Array,
): Promise<PreparedInput> {
  const scale = Math.min(inputWidth / rect.width, inputHeight / rect.height);
  const nw = Math.max(1, Math.min(inputWidth, Math.round(rect.width * scale)));
  const nh = Math.max(1, Math.min(inputHeight, Math.round(rect.height * scale)));
  let img = sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (rect.left !== 0 || rect.top !== 0 || rect.width !== frame.width || rect.height !== frame.height) img = img.extract(rect);
  const resized = await img.resize(nw, nh, { fit: 'fill', kernel: 'linear' }).removeAlpha().raw().toBuffer();

  const padX = spec.letterbox === 'center' ? Math.floor((inputWidth - nw) / 2) : 0;
  const padY = spec.letterbox === 'center' ? Math.floor((inputHeight - nh) / 2) : 0;
  const plane = inputWidth * inputHeight;
  const data = target ?? new Float32Array(3 * plane);
  // Plane p of the tensor takes source channel src[p]: BGR models read R from plane 2.
  const src = spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let p = 0; p < 3; p++) {
    const mean = spec.mean[p];
    const inv = 1 / spec.std[p];
    const pad = (spec.padValue - mean) * inv;
    const planeOff = p * plane;
    data.fill(pad, planeOff, planeOff + plane);
    const ch = src[p];
    for (let y = 0; y < nh; y++) {
      let o = planeOff + (y + padY) * inputWidth + padX;
      let s = y * nw * 3 + ch;
      for (let x = 0; x < nw; x++, o++, s += 3) data[o] = (resized[s] - mean) * inv;
    }
  }
  return { data, transform: { scale, padX, padY, offsetX: rect.left, offsetY: rect.top } };
}

/** Maps a box from model-input pixels back to frame pixels, clipped to the crop it came from. */
export function toFrameBox(b: Box, t: LetterboxTransform, crop: Rect): Box {
  const fx = (x: number) => Math.min(crop.left + crop.width, Math.max(crop.left, (x - t.padX) / t.scale + t.offsetX));
  const fy = (y: number) => Math.min(crop.top + crop.height, Math.max(crop.top, (y - t.padY) / t.scale + t.offsetY));
  return { x1: fx(b.x1), y1: fy(b.y1), x2: fx(b.x2), y2: fy(b.y2) };
}

/** Decodes a JPEG/PNG buffer to a packed RGB frame (what the pipeline and the detectors take). */
export async function decodeImage(buf: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(buf).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgb: data };
}
