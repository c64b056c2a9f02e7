import type { DenseLayer } from '../src/onnx/index.js';

/** A plain-JS forward pass of an MLP (Relu between layers, softmax at the end), for checking outputs. */
export function mlpForward(layers: readonly DenseLayer[], input: Float32Array, rows: number): Float64Array[] {
  const results: Float64Array[] = [];
  for (let row = 0; row < rows; row++) {
    let activations: Float64Array = Float64Array.from(
      input.subarray(row * (input.length / rows), (row + 1) * (input.length / rows)),
    );
    layers.forEach((layer, index) => {
      const outputSize = layer.bias.length;
      const next = new Float64Array(outputSize);
      for (let column = 0; column < outputSize; column++) {
        let sum = layer.bias[column]!;
        for (let inner = 0; inner < activations.length; inner++) {
          sum += activations[inner]! * layer.weights[inner * outputSize + column]!;
        }
        next[column] = index < layers.length - 1 ? Math.max(0, sum) : sum;
      }
      activations = next;
    });
    const maximum = Math.max(...activations);
    const exponentials = activations.map((value) => Math.exp(value - maximum));
    const total = exponentials.reduce((sum, value) => sum + value, 0);
    results.push(exponentials.map((value) => value / total));
  }
  return results;
}
