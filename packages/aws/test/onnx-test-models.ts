import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMlpModel, referenceMlp } from '@mlscale/local-gpu';

/** Three real ONNX model files: two of one signature (input [N,784]), one that takes [N,100] instead. */
export interface OnnxTestModels {
  model: string;
  /** Same inputs and outputs as `model`, other weights. */
  updatedModel: string;
  /** A model callers' requests cannot satisfy: 100 features where `model` takes 784. */
  incompatibleModel: string;
}

/** Writes the three models into `folder` (synchronously: suites name them while being declared). */
export function writeOnnxTestModels(folder: string): OnnxTestModels {
  const models: OnnxTestModels = {
    model: join(folder, 'mnist.onnx'),
    updatedModel: join(folder, 'mnist-v2.onnx'),
    incompatibleModel: join(folder, 'mnist-100-features.onnx'),
  };
  writeFileSync(models.model, referenceMlp(7));
  writeFileSync(models.updatedModel, referenceMlp(8));
  writeFileSync(
    models.incompatibleModel,
    encodeMlpModel({
      layers: [{ weights: new Float32Array(100 * 10).fill(0.01), bias: new Float32Array(10) }],
      inputSize: 100,
      hiddenActivation: 'relu',
      output: 'softmax',
    }),
  );
  return models;
}
