import { createInMemoryBackend, createMemoryCloud } from '../test/index.js';
import { describeBackendConformance } from './index.js';

/** What the fake models take and give: v2 is a drop-in replacement, the 100-feature one is not. */
const digits = (features: number) => ({
  inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [-1, features] }],
  outputs: [{ name: 'probabilities', datatype: 'FP32' as const, shape: [-1, 10] }],
});
const signatures = {
  'file:///models/mnist.onnx': digits(784),
  'file:///models/mnist-v2.onnx': digits(784),
  'file:///models/mnist-100-features.onnx': digits(100),
};

describeBackendConformance({
  name: 'in-memory backend',
  setup: async () => {
    const cloud = createMemoryCloud({ provider: 'memory', stepsToInService: 2 });
    const backend = createInMemoryBackend({ cloud, signatures });
    return {
      backend,
      cloud: backend.conformanceCloud,
      reopen: async () => createInMemoryBackend({ cloud, signatures }),
    };
  },
  deployment: (name) => ({ name, model: { uri: 'file:///models/mnist.onnx' }, replicas: 1 }),
  updatedModel: { uri: 'file:///models/mnist-v2.onnx' },
  incompatibleModel: { uri: 'file:///models/mnist-100-features.onnx' },
  autoscaling: { minReplicas: 1, maxReplicas: 4, target: { metric: 'concurrentRequests', value: 8 } },
  predictRequest: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
  checkPrediction: (response) => {
    if (JSON.stringify(response.outputs[0]?.data) !== JSON.stringify([2, 4, 6])) {
      throw new Error(`unexpected prediction ${JSON.stringify(response.outputs)}`);
    }
  },
  trainingJob: (name) => ({ name, command: ['node', 'train.js'] }),
  modelRegistration: (name) => ({ name, path: './model.onnx' }),
  client: {
    polling: { minDelayMs: 1, maxDelayMs: 5 },
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
  },
});

describeBackendConformance({
  name: 'in-memory backend without serverless, GPUs, keys or private networking',
  namePrefix: 'bare',
  setup: async () => ({
    backend: createInMemoryBackend({
      provider: 'bare',
      stepsToInService: 3,
      capabilities: {
        serverless: false,
        gpu: false,
        customerManagedKeys: false,
        privateNetworking: false,
        training: false,
      },
    }),
  }),
  deployment: (name) => ({ name, model: { name: 'mnist', version: 3 } }),
  predictRequest: { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [0.5, -1] }] },
  client: { polling: { minDelayMs: 1, maxDelayMs: 5 } },
});
