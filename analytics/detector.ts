import ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import type { ModelManifest } from './manifest.js';
import { nms } from './nms.js';
import type { Detection } from './types.js';
import { decodeYolox } from './detectors/yolox.js';
import { decodeNanodet } from './detectors/nanodet.js';
import { decodeYolov8 } from './detectors/yolov8.js';
import type { DecodeOptions, OutputTensor } from './detectors/tensor.js';

export interface DetectorOptions {
  providers: string[];
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide (all cores). */
  intraOpThreads?: number;
  /** Let idle intra-op threads spin (lower latency on an idle box, much worse when cores are shared). */
  allowSpinning?: boolean;
  logger: Logger;
}

/**
 * One ONNX session plus the decoder its manifest names. Takes prepared (letterboxed, normalised) inputs
 * and returns detections in model-input pixels after NMS; callers map them back to the frame.
 */
export class Detector {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly inputWidth: number,
    readonly inputHeight: number,
    /** 1 when the exported graph fixes the batch axis (both shipped models do). */
    readonly maxBatch: number,
  ) {}

  static async create(manifest: ModelManifest, modelPath: string, opts: DetectorOptions): Promise<Detector> {
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: opts.providers,
      graphOptimizationLevel: 'all',
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      extra: { session: { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } } },
      // NanoDet's export keeps initializers as graph inputs and onnxruntime warns once per tensor.
      logSeverityLevel: 3,
    });
    const inputName = manifest.input.name ?? session.inputNames[0];
    if (!session.inputNames.includes(inputName)) throw new Error(`model has no input ${inputName} (inputs: ${session.inputNames.join(', ')})`);
    const meta = session.inputMetadata.find((m) => m.name === inputName);
    const shape = meta && meta.isTensor ? meta.shape : [];
    const dim = (i: number): number | undefined => (typeof shape[i] === 'number' && (shape[i] as number) > 0 ? (shape[i] as number) : undefined);
    const width = manifest.input.width ?? dim(3) ?? 640;
    const height = manifest.input.height ?? dim(2) ?? 640;
    if ((dim(3) !== undefined && dim(3) !== width) || (dim(2) !== undefined && dim(2) !== height)) {
      throw new Error(`manifest input ${width}x${height} does not match the model's [${shape.join(',')}]`);
    }
    const fixedBatch = dim(0);
    const detector = new Detector(manifest, session, inputName, width, height, fixedBatch ?? 8);
    opts.logger.debug({ model: manifest.id, inputName, width, height, maxBatch: detector.maxBatch, providers: opts.providers }, 'session created');
    return detector;
  }

  /** Runs images in batches of up to maxBatch; the result has one detection list per input, in order. */
  async detect(inputs: Float32Array[]): Promise<Detection[][]> {
    const results: Detection[][] = [];
    const plane = 3 * this.inputWidth * this.inputHeight;
    for (let start = 0; start < inputs.length; start += this.maxBatch) {
      const chunk = inputs.slice(start, start + this.maxBatch);
      let data: Float32Array;
      if (chunk.length === 1) data = chunk[0];
      else {
        data = new Float32Array(plane * chunk.length);
        chunk.forEach((c, i) => data.set(c, i * plane));
      }
      const feeds = { [this.inputName]: new ort.Tensor('float32', data, [chunk.length, 3, this.inputHeight, this.inputWidth]) };
      const outputs = await this.session.run(feeds);
      for (let b = 0; b < chunk.length; b++) results.push(this.decode(outputs, b));
    }
    return results;
  }

  private decode(outputs: ort.InferenceSession.ReturnType, batchIndex: number): Detection[] {
    const m = this.manifest;
    const opts: DecodeOptions = { inputWidth: this.inputWidth, inputHeight: this.inputHeight, classes: m.classes, scoreThreshold: m.scoreThreshold, batchIndex };
    const tensor = (name: string | undefined): OutputTensor => {
      const t = outputs[name ?? this.session.outputNames[0]];
      if (!t) throw new Error(`model output ${name} missing`);
      return { data: t.data as Float32Array, dims: t.dims };
    };
    const d = m.decoder;
    let dets: Detection[];
    switch (d.kind) {
      case 'yolox':
        dets = decodeYolox(tensor(d.output), d.strides, opts);
        break;
      case 'nanodet':
        dets = decodeNanodet(d.clsOutputs.map(tensor), d.regOutputs.map(tensor), d.strides, d.regMax, opts);
        break;
      case 'yolov8':
        dets = decodeYolov8(tensor(d.output), opts);
        break;
    }
    return nms(dets, m.nmsIou);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
