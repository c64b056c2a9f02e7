import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackendConformance } from '@mlscale/core/conformance';
import { type AwsEmulator, awsConformanceCloud, startAwsEmulator } from '../src/emulator/index.js';
import { type SageMakerSettings, sagemaker } from '../src/index.js';
import { fakeCredentials, roleArn, servingImage } from './emulator-harness.js';
import { writeOnnxTestModels } from './onnx-test-models.js';
import { startS3TestServer } from './s3-test-server.js';

// Real ONNX files the adapter uploads to S3 (s3rver), a signature file beside each archive: the
// signature gate reads what is served and what would replace it, and refuses the 100-feature model.
const folder = mkdtempSync(join(tmpdir(), 'mlscale-aws-conformance-'));
const models = writeOnnxTestModels(folder);

// The shared suite, against sagemaker() with the real AWS SDK clients talking to the emulator: faults
// in AWS's own words at every mutating request, and a second process (reopen) after a crash at each.
describeBackendConformance({
  name: 'sagemaker() on the AWS emulator',
  setup: async () => {
    const emulator: AwsEmulator = await startAwsEmulator();
    const s3 = await startS3TestServer('mlscale-artifacts');
    // No maxAttempts: the SDK makes one attempt, so the client's retry budget is the whole budget.
    const settings: SageMakerSettings = {
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: fakeCredentials,
      roleArn,
      servingImage,
      artifactBucket: s3.bucket,
      clients: { s3: s3.client() },
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
        await s3.close();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  },
  deployment: (name) => ({ name, model: { uri: models.model }, replicas: 1 }),
  updatedModel: { uri: models.updatedModel },
  incompatibleModel: { uri: models.incompatibleModel },
  modelRegistration: (name) => ({ name, path: models.model }),
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
