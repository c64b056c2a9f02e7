import type { TensorDatatype } from '@mlscale/core';
import type { NumericArray } from '../runtime/tensor-datatypes.js';

/** A tensor inside the server: typed data, row-major. */
export interface InferenceTensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: NumericArray;
}

/** An output the caller asked for. */
export interface RequestedOutput {
  name: string;
  /** Return it with the binary tensor extension. */
  binary: boolean;
}

/** One parsed request, whatever protocol it came in on. */
export interface InferenceRequest {
  id?: string;
  inputs: InferenceTensor[];
  /** Outputs to return; all when absent. */
  outputs?: RequestedOutput[];
  /** `parameters.binary_data_output`: every output binary unless it says otherwise. */
  binaryOutputs?: boolean;
}

/** What a request gets back. */
export interface InferenceResult {
  /** The version label that answered ("1", "2", ...). */
  modelVersion: string;
  outputs: InferenceTensor[];
}

/** Why a request failed, with its HTTP status and the metrics' failure reason. */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  constructor(
    /** HTTP status to answer with. */
    readonly status: number,
    message: string,
    /** The `reason` label of nv_inference_request_failure. */
    readonly reason: string,
    /** Seconds, for 429 and 503. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A 400 for a malformed request. */
export function badRequest(message: string): InferenceError {
  return new InferenceError(400, message, 'invalid_request');
}
