import { describeBackendConformance } from '@mlscale/core/conformance';
import { expect } from 'vitest';
import { vertexConformanceCloud } from '../src/emulator/index.js';
import { startVertexTestSetup } from './vertex-test-setup.js';

let modelPath = '';
let secondModelPath = '';
let incompatibleModelPath = '';

describeBackendConformance({
  name: 'vertex() on the Vertex emulator (real Google clients over gRPC)',
  setup: async () => {
    // Operations finish in milliseconds, so the fault and restart sweeps fit in a test run.
    const setup = await startVertexTestSetup({ delays: { operationMs: 4, deployExtraMs: 4 } });
    modelPath = setup.modelPath;
    secondModelPath = setup.secondModelPath;
    incompatibleModelPath = setup.incompatibleModelPath;
    return {
      backend: setup.backend,
      cleanup: setup.cleanup,
      cloud: vertexConformanceCloud(setup.emulator.inspection),
      // Another process on the same project: a backend of its own, with no memory of this one.
      reopen: async () => setup.newBackend(),
    };
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
  get updatedModel() {
    return { uri: secondModelPath };
  },
  // Takes `input` [N, 100] where the others take [N, 3]: the signature gate must refuse it.
  get incompatibleModel() {
    return { uri: incompatibleModelPath };
  },
  // Vertex keeps at least one replica and tracks CPU utilization in percent.
  autoscaling: { minReplicas: 1, maxReplicas: 3, target: { metric: 'cpuUtilization', value: 60 } },
  rollout: { steps: [50, 100], stepSeconds: 0, maxErrorRate: 0.5, minRequests: 1 },
  trainingJob: (name) => ({
    name,
    image: 'us-docker.pkg.dev/mlscale/images/trainer:latest',
    command: ['python', 'train.py'],
  }),
  modelRegistration: (name) => ({ name, path: modelPath }),
  client: {
    polling: { minDelayMs: 2, maxDelayMs: 20 },
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
  },
});
