import type { ModelSignature, TensorSignature } from '../onnx/model-signature.js';
import { badRequest, type InferenceRequest } from './inference-types.js';

/** What the batcher needs to know about a valid request. */
export interface ValidatedRequest {
  /** Rows along the first dimension (1 for models that run unbatched). */
  rows: number;
  /** Requests with the same key can be concatenated along the first dimension. */
  batchKey: string;
}

/**
 * Checks a request against the model's signature: every input present once, no others, the model's
 * datatypes, ranks and fixed dims, one row count across inputs, known output names. Hand-written (no zod)
 * because it runs on every request; messages say what was wrong and what was expected.
 */
export function validateInputs(request: InferenceRequest, signature: ModelSignature): ValidatedRequest {
  const { inputs } = request;
  if (inputs.length !== signature.inputs.length || inputs.length > 1) {
    checkNames(request, signature);
  } else if (inputs[0]!.name !== signature.inputs[0]!.name) {
    checkNames(request, signature);
  }
  let rows = -1;
  let batchKey = '';
  for (const input of inputs) {
    const expected = signature.inputs.find((candidate) => candidate.name === input.name)!;
    if (input.datatype !== expected.datatype) {
      throw badRequest(
        `input '${input.name}': expected datatype ${expected.datatype}, got ${input.datatype}`,
      );
    }
    const shape = input.shape;
    if (shape.length !== expected.shape.length) {
      throw badRequest(
        `input '${input.name}': expected shape ${formatShape(expected.shape)} (rank ${expected.shape.length}), got ${formatShape(shape)}`,
      );
    }
    for (let axis = 0; axis < shape.length; axis++) {
      const want = expected.shape[axis]!;
      if (want !== -1 && shape[axis] !== want) {
        throw badRequest(
          `input '${input.name}': expected shape ${formatShape(expected.shape)}, got ${formatShape(shape)} (dimension ${axis} must be ${want})`,
        );
      }
    }
    if (signature.batchable) {
      const inputRows = shape[0]!;
      if (inputRows < 1)
        throw badRequest(`input '${input.name}': expected at least one row, got shape ${formatShape(shape)}`);
      if (rows !== -1 && inputRows !== rows) {
        throw badRequest(
          `inputs disagree on the batch size: '${input.name}' has ${inputRows} rows, others ${rows}`,
        );
      }
      rows = inputRows;
      batchKey += `${input.name}:${shape.slice(1).join('x')};`;
    }
  }
  if (request.outputs) {
    for (const output of request.outputs) {
      if (!signature.outputs.some((candidate) => candidate.name === output.name)) {
        throw badRequest(
          `unknown output '${output.name}': expected one of ${signature.outputs.map((candidate) => `'${candidate.name}'`).join(', ')}`,
        );
      }
    }
  }
  return { rows: signature.batchable ? rows : 1, batchKey };
}

function checkNames(request: InferenceRequest, signature: ModelSignature): void {
  const seen = new Set<string>();
  for (const input of request.inputs) {
    if (seen.has(input.name)) throw badRequest(`input '${input.name}' appears twice`);
    seen.add(input.name);
    if (!signature.inputs.some((candidate) => candidate.name === input.name)) {
      throw badRequest(`unknown input '${input.name}': expected inputs ${describeInputs(signature.inputs)}`);
    }
  }
  for (const expected of signature.inputs) {
    if (!seen.has(expected.name)) {
      throw badRequest(
        `missing input '${expected.name}': expected inputs ${describeInputs(signature.inputs)}`,
      );
    }
  }
}

/** `[-1, 784]` as "[-1, 784]". */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function describeInputs(inputs: readonly TensorSignature[]): string {
  return inputs.map((input) => `'${input.name}' ${input.datatype} ${formatShape(input.shape)}`).join(', ');
}
