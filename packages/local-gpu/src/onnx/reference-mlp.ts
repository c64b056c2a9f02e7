import { type DenseLayer, encodeMlpModel } from './encode-mlp-model.js';
import { normalFloat32, seededRandom } from './seeded-random.js';

/** The reference MLP's layer sizes (the seed's make_models.py): 784-512-512-10. */
export const referenceMlpSizes = [784, 512, 512, 10] as const;

/**
 * The reference model's layers: weights ~ N(0, 1)/√fanIn, biases ~ N(0, 0.01²), from a seeded PRNG.
 * The same architecture and scale as the seed's numpy model; the values differ (another PRNG).
 */
export function referenceMlpLayers(seed = 7): DenseLayer[] {
  const random = seededRandom(seed);
  const layers: DenseLayer[] = [];
  for (let index = 0; index < referenceMlpSizes.length - 1; index++) {
    const fanIn = referenceMlpSizes[index]!;
    const fanOut = referenceMlpSizes[index + 1]!;
    layers.push({
      weights: normalFloat32(random, fanIn * fanOut, 1 / Math.sqrt(fanIn)),
      bias: normalFloat32(random, fanOut, 0.01),
    });
  }
  return layers;
}

/** The reference model as ONNX bytes: input `input` [N, 784] FP32, output `probabilities` [N, 10]. */
export function referenceMlp(seed = 7): Uint8Array {
  return encodeMlpModel({
    layers: referenceMlpLayers(seed),
    inputSize: referenceMlpSizes[0],
    hiddenActivation: 'relu',
    output: 'softmax',
  });
}

/**
 * A tiny model without a dynamic batch dimension (input `input` [1, 4] → `probabilities` [1, 3]):
 * the server runs such models one request at a time.
 */
export function fixedShapeMlp(seed = 11): Uint8Array {
  const random = seededRandom(seed);
  return encodeMlpModel({
    layers: [{ weights: normalFloat32(random, 4 * 3, 0.5), bias: normalFloat32(random, 3, 0.1) }],
    inputSize: 4,
    hiddenActivation: 'relu',
    output: 'softmax',
    batchDimension: 1,
  });
}
