import type { Logger } from 'pino';
import { Detector } from './detector.js';
import { parseManifest, type ModelManifest } from './manifest.js';
import { sha256File } from './model-store.js';
import { decodeImage, prepareInput, toFrameBox } from './preprocess.js';
import { ValidationError, type FieldError } from './validate.js';

export interface ModelCheck {
  ok: boolean;
  errors: FieldError[];
  manifest: ModelManifest | null;
  sha256: string | null;
  input: { width: number; height: number } | null;
  /** Detections on a blank input (a sane model finds nothing there). */
  blankDetections: number | null;
}

/**
 * Validates a city's model before anyone may enable it: the manifest (strict), the sha256 of the weights (when the
 * manifest gives one it must match), an onnxruntime session, the input shape against the manifest, and one run on a
 * blank image whose outputs must decode with the manifest's decoder (YOLOX rows = strides on the input size and 5 +
 * classes per row; NanoDet per-stride cls/dis outputs; YOLOv8-style [1, 4 + classes, N]). Never throws.
 */
export async function checkModel(rawManifest: unknown, onnxPath: string, opts: { providers?: string[]; logger: Logger }): Promise<ModelCheck> {
  const out: ModelCheck = { ok: false, errors: [], manifest: null, sha256: null, input: null, blankDetections: null };
  try {
    out.manifest = parseManifest(rawManifest, 'manifest');
  } catch (err) {
    out.errors = err instanceof ValidationError ? err.errors.map((e) => ({ field: `manifest.${e.field}`, message: e.message })) : [{ field: 'manifest', message: String(err) }];
    return out;
  }
  out.sha256 = await sha256File(onnxPath);
  if (out.manifest.sha256 && out.manifest.sha256 !== out.sha256) {
    out.errors.push({ field: 'manifest.sha256', message: `the uploaded weights hash to ${out.sha256}, the manifest says ${out.manifest.sha256}` });
    return out;
  }
  let detector: Detector | null = null;
  try {
    detector = await Detector.create(out.manifest, onnxPath, { providers: opts.providers ?? ['cpu'], logger: opts.logger });
    out.input = { width: detector.inputWidth, height: detector.inputHeight };
    const [dets] = await detector.detect([new Float32Array(3 * detector.inputWidth * detector.inputHeight)]);
    out.blankDetections = dets.length;
    out.ok = true;
  } catch (err) {
    out.errors.push({ field: 'model', message: `${(err as Error).message}`.slice(0, 500) });
  } finally {
    await detector?.release().catch(() => {});
  }
  return out;
}

export interface TestDetection {
  label: string;
  score: number;
  /** Normalised to the image. */
  box: { x1: number; y1: number; x2: number; y2: number };
}

/** Runs a detector once over a whole image (a camera's snapshot): what the model sees, before it is enabled. */
export async function detectOnImage(detector: Detector, jpeg: Buffer): Promise<{ width: number; height: number; detections: TestDetection[] }> {
  const img = await decodeImage(jpeg);
  const crop = { left: 0, top: 0, width: img.width, height: img.height };
  const input = await prepareInput(img, crop, detector.manifest.input, detector.inputWidth, detector.inputHeight);
  const [dets] = await detector.detect([input.data]);
  return {
    width: img.width,
    height: img.height,
    detections: dets
      .map((d) => {
        const b = toFrameBox(d.box, input.transform, crop);
        return { label: d.label, score: Math.round(d.score * 1000) / 1000, box: { x1: b.x1 / img.width, y1: b.y1 / img.height, x2: b.x2 / img.width, y2: b.y2 / img.height } };
      })
      .sort((a, b) => b.score - a.score),
  };
}
