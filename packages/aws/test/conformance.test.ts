import { describeBackendConformance } from '@mlscale/core/conformance';
import { type AwsEmulator, awsConformanceCloud, startAwsEmulator } from '../src/emulator/index.js';
import { type SageMakerSettings, sagemaker } from '../src/index.js';
import { fakeCredentials, roleArn, servingImage } from './emulator-harness.js';

// The shared suite, against sagemaker() with the real AWS SDK clients talking to the emulator: faults
// in AWS's own words at every mutating request, and a second process (reopen) after a crash at each.
describeBackendConformance({
  name: 'sagemaker() on the AWS emulator',
  setup: async () => {
    const emulator: AwsEmulator = await startAwsEmulator();
    // No maxAttempts: the SDK makes one attempt, so the client's retry budget is the whole budget.
    const settings: SageMakerSettings = {
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: fakeCredentials,
      roleArn,
      servingImage,
      polling: { logIntervalMs: 10 },
      // What an update replaced is collected at once, though seconds old (the default keeps 5 minutes).
      garbageCollection: { minimumAgeSeconds: 0 },
    };
    const backend = sagemaker(settings);
    return {
      backend,
      cloud: awsConformanceCloud(emulator),
      reopen: async () => sagemaker(settings),
      cleanup: async () => {
        await backend.close?.();
        await emulator.close();
      },
    };
  },
  deployment: (name) => ({ name, model: { uri: 's3://mlscale-models/mnist/model.tar.gz' }, replicas: 1 }),
  updatedModel: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' },
  // requestsPerSecond maps to SageMakerVariantInvocationsPerInstance; SageMaker keeps one instance at least.
  autoscaling: { minReplicas: 1, maxReplicas: 3, target: { metric: 'requestsPerSecond', value: 5 } },
  // A canary of 50% (SageMaker allows at most half the fleet), then the rest; waits within its limits.
  rollout: { steps: [50, 100], stepSeconds: 0 },
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
