import type { ModelSignature, TensorSignature } from './model-signature.js';

/** One way a new model would break callers of the serving one. */
export interface SignatureDifference {
  /** `input 'pixels'`, `output 'probabilities'`. */
  tensor: string;
  /** What changed, in words, and why callers care. */
  message: string;
}

const shown = (shape: readonly number[]) =>
  `[${shape.map((size) => (size < 0 ? '?' : String(size))).join(', ')}]`;

/**
 * What stops `next` from answering every request `serving` answers, the way callers expect:
 * - inputs: the same names (a new one is one old requests lack; a dropped one they still send), the same
 *   datatypes, and shapes that accept everything the serving ones accept (a dimension the serving model
 *   leaves dynamic must stay dynamic; a fixed one must stay the same or become dynamic);
 * - outputs: every serving output still there, with its datatype, and a shape no caller would read
 *   differently (the same rank; fixed dimensions the same). New outputs are fine.
 * Empty when `next` is a drop-in replacement.
 */
export function compareSignatures(serving: ModelSignature, next: ModelSignature): SignatureDifference[] {
  const differences: SignatureDifference[] = [];
  const byName = (tensors: readonly TensorSignature[]) =>
    new Map(tensors.map((tensor) => [tensor.name, tensor]));
  const nextInputs = byName(next.inputs);
  const servingInputs = byName(serving.inputs);
  for (const input of serving.inputs) {
    const replacement = nextInputs.get(input.name);
    const tensor = `input '${input.name}'`;
    if (!replacement) {
      differences.push({ tensor, message: `is gone: requests that send it would be refused` });
      continue;
    }
    if (replacement.datatype !== input.datatype) {
      differences.push({ tensor, message: `is ${replacement.datatype}, was ${input.datatype}` });
    }
    const accepts =
      replacement.shape.length === input.shape.length &&
      replacement.shape.every((size, index) => size === -1 || size === input.shape[index]);
    if (!accepts) {
      differences.push({
        tensor,
        message: `takes ${shown(replacement.shape)}, was ${shown(input.shape)}: requests the serving model accepts would be refused`,
      });
    }
  }
  for (const input of next.inputs) {
    if (!servingInputs.has(input.name)) {
      differences.push({ tensor: `input '${input.name}'`, message: `is new: requests today do not send it` });
    }
  }
  const nextOutputs = byName(next.outputs);
  for (const output of serving.outputs) {
    const replacement = nextOutputs.get(output.name);
    const tensor = `output '${output.name}'`;
    if (!replacement) {
      differences.push({ tensor, message: `is gone (or renamed): callers reading it would get nothing` });
      continue;
    }
    if (replacement.datatype !== output.datatype) {
      differences.push({ tensor, message: `is ${replacement.datatype}, was ${output.datatype}` });
    }
    const same =
      replacement.shape.length === output.shape.length &&
      replacement.shape.every((size, index) => size === output.shape[index]);
    if (!same) {
      differences.push({
        tensor,
        message: `has shape ${shown(replacement.shape)}, was ${shown(output.shape)}: callers would read answers of another shape`,
      });
    }
  }
  return differences;
}
