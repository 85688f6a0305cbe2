import { readFile, readdir } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import { Checker, ValidationError, join } from './validate.js';

/** How a frame becomes the model's input tensor (float32 NCHW, value = (pixel - mean) / std on the 0..255 scale). */
export interface InputSpec {
  /** Input tensor name; defaults to the session's first input. */
  name?: string;
  /** Fixed input size; null means "read it from the model" (generic heads users bring). */
  width: number | null;
  height: number | null;
  channelOrder: 'BGR' | 'RGB';
  /** top-left: YOLOX style (paste at 0,0); center: NanoDet / Ultralytics style. */
  letterbox: 'top-left' | 'center';
  /** Value of the padding on the 0..255 scale before normalisation (114 for YOLOX, 0 for NanoDet). */
  padValue: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export type DecoderSpec =
  | { kind: 'yolox'; output?: string; strides: number[] }
  | { kind: 'nanodet'; strides: number[]; regMax: number; clsOutputs: string[]; regOutputs: string[] }
  | { kind: 'yolov8'; output?: string };

export interface ModelManifest {
  id: string;
  description?: string;
  file: string;
  /** Null for models users bring without a published checksum (the generic YOLOv8 head). */
  sha256: string | null;
  license?: string;
  input: InputSpec;
  decoder: DecoderSpec;
  classes: string[];
  /** Detections below this score are dropped before NMS. */
  scoreThreshold: number;
  nmsIou: number;
}

const MANIFEST_KEYS = ['id', 'description', 'file', 'sha256', 'license', 'input', 'decoder', 'classes', 'scoreThreshold', 'nmsIou'] as const;
const INPUT_KEYS = ['name', 'width', 'height', 'channelOrder', 'letterbox', 'padValue', 'mean', 'std'] as const;

/** Validates a parsed manifest; throws ValidationError listing every bad field. */
export function parseManifest(raw: unknown, source = 'manifest'): ModelManifest {
  const c = new Checker();
  const m = c.object(raw, '', MANIFEST_KEYS);
  if (!m) throw new ValidationError(source, c.errors);
  const id = c.string(m.id, 'id', { pattern: /^[a-z0-9][a-z0-9_.-]*$/ });
  const description = c.string(m.description, 'description', { optional: true });
  const file = c.string(m.file, 'file', { pattern: /^[A-Za-z0-9_.-]+\.onnx$/ });
  let sha256: string | null = null;
  if (m.sha256 !== null && m.sha256 !== undefined) sha256 = c.string(m.sha256, 'sha256', { pattern: /^[0-9a-f]{64}$/ }) ?? null;
  const license = c.string(m.license, 'license', { optional: true });

  const input = parseInput(c, m.input);
  const decoder = parseDecoder(c, m.decoder);
  const classesRaw = c.array(m.classes, 'classes', { minLength: 1, maxLength: 10_000 });
  const classes: string[] = [];
  classesRaw?.forEach((v, i) => {
    const s = c.string(v, join('classes', i));
    if (s !== undefined) classes.push(s);
  });
  if (new Set(classes).size !== classes.length) c.fail('classes', 'class names must be unique');
  const scoreThreshold = c.number(m.scoreThreshold, 'scoreThreshold', { min: 0, max: 1 });
  const nmsIou = c.number(m.nmsIou, 'nmsIou', { min: 0, max: 1 });
  if (decoder?.kind === 'nanodet' && decoder.clsOutputs.length !== decoder.strides.length) c.fail('decoder.clsOutputs', 'one per stride');
  if (decoder?.kind === 'nanodet' && decoder.regOutputs.length !== decoder.strides.length) c.fail('decoder.regOutputs', 'one per stride');
  if (decoder && decoder.kind !== 'yolov8' && input && (input.width === null || input.height === null)) {
    c.fail('input.width', `a ${decoder.kind} manifest must state its input size`);
  }
  if (!c.ok) throw new ValidationError(source, c.errors);
  return {
    id: id!,
    ...(description ? { description } : {}),
    file: file!,
    sha256,
    ...(license ? { license } : {}),
    input: input!,
    decoder: decoder!,
    classes,
    scoreThreshold: scoreThreshold!,
    nmsIou: nmsIou!,
  };
}

function parseInput(c: Checker, raw: unknown): InputSpec | undefined {
  const i = c.object(raw, 'input', INPUT_KEYS);
  if (!i) return undefined;
  const name = c.string(i.name, 'input.name', { optional: true });
  const size = (v: unknown, f: string): number | null | undefined =>
    v === null ? null : c.number(v, f, { integer: true, min: 32, max: 4096 });
  const width = size(i.width, 'input.width');
  const height = size(i.height, 'input.height');
  const channelOrder = c.oneOf(i.channelOrder, 'input.channelOrder', ['BGR', 'RGB'] as const);
  const letterbox = c.oneOf(i.letterbox, 'input.letterbox', ['top-left', 'center'] as const);
  const padValue = c.number(i.padValue, 'input.padValue', { min: 0, max: 255 });
  const mean = c.numberTuple(i.mean, 'input.mean', 3);
  const std = c.numberTuple(i.std, 'input.std', 3, { exclusiveMin: 0 });
  if (width === undefined || height === undefined || !channelOrder || !letterbox || padValue === undefined || !mean || !std) return undefined;
  return {
    ...(name ? { name } : {}),
    width,
    height,
    channelOrder,
    letterbox,
    padValue,
    mean: mean as [number, number, number],
    std: std as [number, number, number],
  };
}

function parseDecoder(c: Checker, raw: unknown): DecoderSpec | undefined {
  const base = c.object(raw, 'decoder', ['kind', 'output', 'strides', 'regMax', 'clsOutputs', 'regOutputs']);
  if (!base) return undefined;
  const kind = c.oneOf(base.kind, 'decoder.kind', ['yolox', 'nanodet', 'yolov8'] as const);
  const strides = (): number[] | undefined => {
    const arr = c.array(base.strides, 'decoder.strides', { minLength: 1, maxLength: 8 });
    const out = arr?.map((v, i) => c.number(v, `decoder.strides[${i}]`, { integer: true, min: 1, max: 256 }));
    return out && out.every((v) => v !== undefined) ? (out as number[]) : undefined;
  };
  const names = (v: unknown, f: string): string[] | undefined => {
    const arr = c.array(v, f, { minLength: 1 });
    const out = arr?.map((x, i) => c.string(x, `${f}[${i}]`));
    return out && out.every((x) => x !== undefined) ? (out as string[]) : undefined;
  };
  const refuse = (keys: string[]): void => {
    for (const k of keys) if (base[k] !== undefined) c.fail(`decoder.${k}`, `unknown key for decoder kind ${kind}`);
  };
  switch (kind) {
    case 'yolox': {
      refuse(['regMax', 'clsOutputs', 'regOutputs']);
      const output = c.string(base.output, 'decoder.output', { optional: true });
      const s = strides();
      return s ? { kind, strides: s, ...(output ? { output } : {}) } : undefined;
    }
    case 'nanodet': {
      refuse(['output']);
      const s = strides();
      const regMax = c.number(base.regMax, 'decoder.regMax', { integer: true, min: 1, max: 64 });
      const clsOutputs = names(base.clsOutputs, 'decoder.clsOutputs');
      const regOutputs = names(base.regOutputs, 'decoder.regOutputs');
      return s && regMax !== undefined && clsOutputs && regOutputs ? { kind, strides: s, regMax, clsOutputs, regOutputs } : undefined;
    }
    case 'yolov8': {
      refuse(['strides', 'regMax', 'clsOutputs', 'regOutputs']);
      const output = c.string(base.output, 'decoder.output', { optional: true });
      return { kind, ...(output ? { output } : {}) };
    }
    default:
      return undefined;
  }
}

export async function loadManifestFile(path: string): Promise<ModelManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ValidationError(path, [{ field: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseManifest(parsed, path);
}

/** Every *.json manifest of a directory, by id; a bad manifest is reported, not fatal for the others. */
export async function loadManifestDir(dir: string): Promise<{ manifests: Map<string, ModelManifest>; errors: ValidationError[] }> {
  const manifests = new Map<string, ModelManifest>();
  const errors: ValidationError[] = [];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  for (const f of files) {
    try {
      const m = await loadManifestFile(joinPath(dir, f));
      if (manifests.has(m.id)) throw new ValidationError(f, [{ field: 'id', message: `duplicate model id ${m.id}` }]);
      manifests.set(m.id, m);
    } catch (err) {
      errors.push(err instanceof ValidationError ? err : new ValidationError(f, [{ field: '', message: String(err) }]));
    }
  }
  return { manifests, errors };
}
