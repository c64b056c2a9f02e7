export { type DenseLayer, encodeMlpModel, type MlpModelDefinition } from './encode-mlp-model.js';
export { type ModelSignature, readModelSignature, type TensorSignature } from './model-signature.js';
export {
  encodeGraph,
  type FloatInitializer,
  type GraphDefinition,
  type GraphNode,
  type GraphValue,
  type Int64Initializer,
  onnxElementType,
} from './onnx-graph.js';
export { fixedShapeMlp, referenceMlp, referenceMlpLayers, referenceMlpSizes } from './reference-mlp.js';
export { normalFloat32, type SeededRandom, seededRandom } from './seeded-random.js';
