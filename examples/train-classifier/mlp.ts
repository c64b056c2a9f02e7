import { seededRandom } from '@mlscale/local-gpu/onnx';

/** A one-hidden-layer MLP's shape. */
export interface MlpShape {
  inputs: number;
  hidden: number;
  classes: number;
}

/**
 * Where each tensor sits in the flat parameter vector: [W1 (inputs×hidden), b1, W2 (hidden×classes), b2].
 * One flat Float64Array keeps checkpoints, the gradient exchange and the update a single loop.
 */
export function parameterLayout(shape: MlpShape) {
  const w1 = 0;
  const b1 = w1 + shape.inputs * shape.hidden;
  const w2 = b1 + shape.hidden;
  const b2 = w2 + shape.hidden * shape.classes;
  return { w1, b1, w2, b2, size: b2 + shape.classes };
}

/** He-initialised weights and zero biases, the same for a seed on every rank. */
export function initialParameters(shape: MlpShape, seed: number): Float64Array {
  const layout = parameterLayout(shape);
  const parameters = new Float64Array(layout.size);
  const random = seededRandom(seed);
  const scale1 = Math.sqrt(2 / shape.inputs);
  for (let index = layout.w1; index < layout.b1; index++) parameters[index] = random.normal() * scale1;
  const scale2 = Math.sqrt(2 / shape.hidden);
  for (let index = layout.w2; index < layout.b2; index++) parameters[index] = random.normal() * scale2;
  return parameters;
}

/** Class probabilities for one row (softmax of the logits), with the hidden activations. */
export function forward(
  shape: MlpShape,
  parameters: Float64Array,
  row: readonly number[],
): { hidden: Float64Array; probabilities: Float64Array } {
  const layout = parameterLayout(shape);
  const hidden = new Float64Array(shape.hidden);
  for (let unit = 0; unit < shape.hidden; unit++) {
    let sum = parameters[layout.b1 + unit]!;
    for (let input = 0; input < shape.inputs; input++) {
      sum += row[input]! * parameters[layout.w1 + input * shape.hidden + unit]!;
    }
    hidden[unit] = Math.max(sum, 0);
  }
  const probabilities = new Float64Array(shape.classes);
  let largest = Number.NEGATIVE_INFINITY;
  for (let output = 0; output < shape.classes; output++) {
    let sum = parameters[layout.b2 + output]!;
    for (let unit = 0; unit < shape.hidden; unit++) {
      sum += hidden[unit]! * parameters[layout.w2 + unit * shape.classes + output]!;
    }
    probabilities[output] = sum;
    largest = Math.max(largest, sum);
  }
  // Subtracting the largest logit keeps exp() finite.
  let total = 0;
  for (let output = 0; output < shape.classes; output++) {
    const value = Math.exp(probabilities[output]! - largest);
    probabilities[output] = value;
    total += value;
  }
  for (let output = 0; output < shape.classes; output++) probabilities[output]! /= total;
  return { hidden, probabilities };
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}

/**
 * Adds one row's cross-entropy gradient into `gradient` (a sum, not a mean: ranks add their sums and
 * divide by the global count, so the result is the full batch's mean gradient). Returns the row's loss
 * and whether it was classified right.
 */
export function accumulateGradient(
  shape: MlpShape,
  parameters: Float64Array,
  row: readonly number[],
  label: number,
  gradient: Float64Array,
): { loss: number; correct: boolean } {
  const layout = parameterLayout(shape);
  const { hidden, probabilities } = forward(shape, parameters, row);
  const outputError = new Float64Array(shape.classes);
  for (let output = 0; output < shape.classes; output++) {
    outputError[output] = probabilities[output]! - (output === label ? 1 : 0);
    gradient[layout.b2 + output]! += outputError[output]!;
  }
  for (let unit = 0; unit < shape.hidden; unit++) {
    let hiddenError = 0;
    for (let output = 0; output < shape.classes; output++) {
      gradient[layout.w2 + unit * shape.classes + output]! += hidden[unit]! * outputError[output]!;
      hiddenError += outputError[output]! * parameters[layout.w2 + unit * shape.classes + output]!;
    }
    // ReLU passes the error only where the unit was active.
    if (hidden[unit]! <= 0) continue;
    gradient[layout.b1 + unit]! += hiddenError;
    for (let input = 0; input < shape.inputs; input++) {
      gradient[layout.w1 + input * shape.hidden + unit]! += row[input]! * hiddenError;
    }
  }
  const probability = Math.max(probabilities[label]!, 1e-12);
  return { loss: -Math.log(probability), correct: argmax(probabilities) === label };
}

/** Share of rows classified right. */
export function accuracy(
  shape: MlpShape,
  parameters: Float64Array,
  features: readonly (readonly number[])[],
  labels: readonly number[],
): number {
  let correct = 0;
  features.forEach((row, index) => {
    if (argmax(forward(shape, parameters, row).probabilities) === labels[index]) correct++;
  });
  return features.length === 0 ? 0 : correct / features.length;
}
