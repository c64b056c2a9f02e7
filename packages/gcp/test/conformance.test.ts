import { describeBackendConformance } from '@mlscale/core/conformance';
import { expect } from 'vitest';
import { startVertexTestSetup } from './vertex-test-setup.js';

let modelPath = '';

describeBackendConformance({
  name: 'vertex() on the Vertex emulator (real Google clients over gRPC)',
  setup: async () => {
    const setup = await startVertexTestSetup();
    modelPath = setup.modelPath;
    return { backend: setup.backend, cleanup: setup.cleanup };
  },
  deployment: (name) => ({ name, model: { uri: modelPath }, replicas: 1 }),
  predictRequest: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 0, 0, 0] }] },
  checkPrediction: (response) => {
    const [output] = response.outputs;
    expect(output?.shape).toEqual([2, 3]);
    // The emulator's default predictor: a softmax over each instance.
    const total = Math.exp(1) + Math.exp(2) + Math.exp(3);
    const expected = [Math.exp(1) / total, Math.exp(2) / total, Math.exp(3) / total, 1 / 3, 1 / 3, 1 / 3];
    for (const [index, value] of output!.data.entries()) expect(value).toBeCloseTo(expected[index]!, 6);
  },
  trainingJob: (name) => ({
    name,
    image: 'us-docker.pkg.dev/mlscale/images/trainer:latest',
    command: ['python', 'train.py'],
  }),
});
