import { MlscaleError, type TensorDatatype } from '@mlscale/core';
import { readOnnxSignature } from '@mlscale/core/onnx';

/** One input or output as the V2 metadata route reports it. */
export interface TensorSignature {
  name: string;
  datatype: TensorDatatype;
  /** -1 marks a dynamic dimension. */
  shape: number[];
}

/** What a model takes and gives, read from its ONNX graph. */
export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  /** Every input and output has a dynamic first dimension, so requests can be concatenated on it. */
  batchable: boolean;
  opset?: number;
  producer?: string;
}

/**
 * Reads a model's inputs and outputs from its ONNX bytes (core's `readOnnxSignature`, the one the
 * signature gate uses, so what is served and what is compared are read alike) and whether it batches;
 * throws `InvalidSpec` when the bytes are not an ONNX model, naming `source`.
 */
export function readModelSignature(bytes: Uint8Array, source: string): ModelSignature {
  let description: ReturnType<typeof readOnnxSignature>;
  try {
    description = readOnnxSignature(bytes, source);
  } catch (error) {
    if (!MlscaleError.hasCode(error, 'InvalidSpec')) throw error;
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: error.message,
      issues: error.issues,
      provider: 'local',
    });
  }
  const batchable = [...description.inputs, ...description.outputs].every(
    (tensor) => tensor.shape.length > 0 && tensor.shape[0] === -1,
  );
  return { ...description, batchable };
}
