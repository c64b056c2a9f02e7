import { createInMemoryBackend } from '../test/index.js';
import { describeBackendConformance } from './index.js';

describeBackendConformance({
  name: 'in-memory backend',
  setup: async () => ({ backend: createInMemoryBackend({ stepsToInService: 2 }) }),
  deployment: (name) => ({ name, model: { uri: 'file:///models/mnist.onnx' }, replicas: 1 }),
  predictRequest: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
  checkPrediction: (response) => {
    if (JSON.stringify(response.outputs[0]?.data) !== JSON.stringify([2, 4, 6])) {
      throw new Error(`unexpected prediction ${JSON.stringify(response.outputs)}`);
    }
  },
  trainingJob: (name) => ({ name, command: ['node', 'train.js'] }),
});

describeBackendConformance({
  name: 'in-memory backend without serverless, GPUs, keys or private networking',
  namePrefix: 'bare',
  setup: async () => ({
    backend: createInMemoryBackend({
      provider: 'bare',
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
});
