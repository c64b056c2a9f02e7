import { describeBackendConformance } from '@mlscale/core/conformance';
import { expect } from 'vitest';
import { localGpu } from '../src/index.js';
import { encodeMlpModel, referenceMlp } from '../src/onnx/index.js';
import { referenceInput, temporaryFolder, writeModel } from './helpers.js';
import { createLocalConformanceCloud } from './local-conformance-cloud.js';

const folder = temporaryFolder();
const modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp(7));
// Another model with the same inputs and outputs: other weights.
const updatedPath = writeModel(folder.path, 'reference-v2.onnx', referenceMlp(8));
// A model callers' requests cannot satisfy: it takes 100 features where the reference takes 784.
const incompatiblePath = writeModel(
  folder.path,
  'reference-100-features.onnx',
  encodeMlpModel({
    layers: [{ weights: new Float32Array(100 * 10).fill(0.01), bias: new Float32Array(10) }],
    inputSize: 100,
    hiddenActivation: 'relu',
    output: 'softmax',
  }),
);
const rollout = { steps: [50, 100], stepSeconds: 0 };

describeBackendConformance({
  name: 'localGpu',
  setup: async () => {
    const effects = createLocalConformanceCloud();
    const backend = localGpu({ root: folder.path, device: 'cpu', deploymentEffects: effects.runEffect });
    return {
      backend,
      cloud: effects.view(backend),
      cleanup: async () => {
        await backend.close();
        folder.remove();
      },
    };
  },
  // Fast rollout steps in the recorded spec, so the sweeps' model updates (which merge onto it) are quick.
  deployment: (name) => ({ name, model: { uri: modelPath }, replicas: 1, rollout }),
  updatedModel: { uri: updatedPath },
  incompatibleModel: { uri: incompatiblePath },
  autoscaling: { minReplicas: 1, maxReplicas: 3, target: { metric: 'concurrentRequests', value: 8 } },
  rollout,
  // The local server runs in this process and passes `environment` to nothing.
  environment: false,
  trainingJob: (name) => ({ name, command: [process.execPath, '-e', 'console.log("epoch=1 loss=0.5")'] }),
  modelRegistration: (name) => ({ name, path: modelPath }),
  predictRequest: {
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from(referenceInput(1)) }],
  },
  checkPrediction: (response) => {
    const output = response.outputs[0]!;
    expect(output.shape).toEqual([1, 10]);
    const total = (output.data as number[]).reduce((sum, value) => sum + value, 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-5);
  },
  client: {
    polling: { minDelayMs: 5, maxDelayMs: 50 },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  },
});
