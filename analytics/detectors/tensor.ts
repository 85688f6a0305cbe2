/** The part of an ONNX output tensor the decoders need: flat data and its shape. */
export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface DecodeOptions {
  inputWidth: number;
  inputHeight: number;
  classes: readonly string[];
  scoreThreshold: number;
  /** Which image of a batched output to decode. */
  batchIndex?: number;
}
