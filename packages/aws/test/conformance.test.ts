import { describeBackendConformance } from '@mlscale/core/conformance';
import { startAwsEmulator } from '../src/emulator/index.js';
import { sagemaker } from '../src/index.js';
import { fakeCredentials, roleArn, servingImage } from './emulator-harness.js';

// The shared suite, against sagemaker() with the real AWS SDK clients talking to the emulator.
describeBackendConformance({
  name: 'sagemaker() on the AWS emulator',
  setup: async () => {
    const emulator = await startAwsEmulator();
    const backend = sagemaker({
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: fakeCredentials,
      roleArn,
      servingImage,
      maxAttempts: 1,
      retry: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 },
      polling: { minDelayMs: 5, maxDelayMs: 20, logIntervalMs: 10 },
    });
    return {
      backend,
      cleanup: async () => {
        await backend.close?.();
        await emulator.close();
      },
    };
  },
  deployment: (name) => ({ name, model: { uri: 's3://mlscale-models/mnist/model.tar.gz' }, replicas: 1 }),
  predictRequest: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }] },
  checkPrediction: (response) => {
    // The emulator's built-in model sums each row.
    const sums = response.outputs.find((output) => output.name === 'sum');
    if (JSON.stringify(sums?.data) !== JSON.stringify([6, 15])) {
      throw new Error(`unexpected prediction ${JSON.stringify(response.outputs)}`);
    }
  },
  trainingJob: (name) => ({
    name,
    image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311',
    command: ['python', 'train.py'],
    inputs: { train: { uri: 's3://mlscale-data/mnist/train/' } },
    output: { uri: 's3://mlscale-output/jobs/' },
  }),
  client: {
    polling: { minDelayMs: 5, maxDelayMs: 50 },
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
  },
});
