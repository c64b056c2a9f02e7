import { MlscaleError } from '@mlscale/core';
import { encodeGraph, type FloatInitializer, type GraphNode, onnxElementType } from './onnx-graph.js';

/** One dense layer: `output = input × weights + bias`. */
export interface DenseLayer {
  /** inputSize × outputSize, row-major. */
  weights: Float32Array;
  /** outputSize values. */
  bias: Float32Array;
}

export interface MlpModelDefinition {
  layers: readonly DenseLayer[];
  /** Features per row of the input. */
  inputSize: number;
  /** Between layers. */
  hiddenActivation: 'relu';
  /** After the last layer: `softmax` over axis 1, or the raw logits. */
  output: 'softmax' | 'none';
  /** Default `input`. */
  inputName?: string;
  /** Default `probabilities`. */
  outputName?: string;
  /**
   * The first dim: `dynamic` (a symbolic `N`, so requests batch) or a fixed row count (the model then
   * runs unbatched). Default `dynamic`.
   */
  batchDimension?: 'dynamic' | number;
}

/**
 * An MLP as ONNX bytes: Gemm (+ Relu between layers) (+ Softmax(axis=1) at the end), opset 17,
 * ir_version 8, the same graph the seed's make_models.py writes.
 */
export function encodeMlpModel(definition: MlpModelDefinition): Uint8Array {
  const inputName = definition.inputName ?? 'input';
  const outputName = definition.outputName ?? 'probabilities';
  if (definition.layers.length === 0) invalid('layers', 'expected at least one layer');
  const batch = definition.batchDimension ?? 'dynamic';
  if (batch !== 'dynamic' && !(Number.isInteger(batch) && batch > 0)) {
    invalid('batchDimension', `expected 'dynamic' or a positive integer, got ${String(batch)}`);
  }
  const nodes: GraphNode[] = [];
  const initializers: FloatInitializer[] = [];
  let current = inputName;
  let width = definition.inputSize;
  definition.layers.forEach((layer, index) => {
    const outputSize = layer.bias.length;
    if (layer.weights.length !== width * outputSize) {
      invalid(
        `layers[${index}].weights`,
        `expected ${width} × ${outputSize} = ${width * outputSize} values, got ${layer.weights.length}`,
      );
    }
    initializers.push(
      { name: `W${index}`, dims: [width, outputSize], values: layer.weights },
      { name: `B${index}`, dims: [outputSize], values: layer.bias },
    );
    const last = index === definition.layers.length - 1;
    const gemmOutput = last && definition.output === 'none' ? outputName : `h${index}`;
    nodes.push({ opType: 'Gemm', inputs: [current, `W${index}`, `B${index}`], outputs: [gemmOutput] });
    current = gemmOutput;
    if (!last) {
      nodes.push({ opType: 'Relu', inputs: [current], outputs: [`r${index}`] });
      current = `r${index}`;
    } else if (definition.output === 'softmax') {
      nodes.push({ opType: 'Softmax', inputs: [current], outputs: [outputName], intAttributes: { axis: 1 } });
    }
    width = outputSize;
  });
  const batchDim = batch === 'dynamic' ? 'N' : batch;
  return encodeGraph({
    name: 'mlp',
    inputs: [
      { name: inputName, elementType: onnxElementType.float, shape: [batchDim, definition.inputSize] },
    ],
    outputs: [{ name: outputName, elementType: onnxElementType.float, shape: [batchDim, width] }],
    nodes,
    floatInitializers: initializers,
  });
}

function invalid(path: string, message: string): never {
  throw new MlscaleError({
    code: 'InvalidSpec',
    message: `Invalid MLP definition: ${path}: ${message}`,
    issues: [{ path, message }],
    provider: 'local',
  });
}
