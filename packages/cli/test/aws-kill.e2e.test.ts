import { rmSync } from 'node:fs';
import { type AwsEmulator, awsConformanceCloud, startAwsEmulator } from '@mlscale/aws/emulator';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ensureBuilt, removeBuild, temporaryProject } from './cli-harness.js';
import { type KillTestCloud, killDuringCreate, killDuringUpdate } from './kill-and-rerun.js';

describe('mlscale apply killed with SIGKILL against the SageMaker emulator, then run again', () => {
  let emulator: AwsEmulator;
  let target: KillTestCloud;
  const directories: string[] = [];
  const newDirectory = () => {
    const directory = temporaryProject('mlscale-aws-kill-');
    directories.push(directory);
    return directory;
  };

  beforeAll(async () => {
    await ensureBuilt();
    emulator = await startAwsEmulator();
    const autoscaling = { minReplicas: 1, maxReplicas: 3 };
    target = {
      cloud: awsConformanceCloud(emulator),
      env: {
        SAGEMAKER_EMULATOR_URL: emulator.url,
        TEST_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        TEST_SECRET_ACCESS_KEY: 'not-a-real-secret-key',
      },
      autoscaling,
      config: (name, version) => ({
        file: 'mlscale.yaml',
        text: `backends:
  aws:
    region: us-east-1
    endpoint: \${env:SAGEMAKER_EMULATOR_URL}
    roleArn: arn:aws:iam::123456789012:role/mlscale-test
    servingImage: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlscale-server:0.1.0
    credentials: { accessKeyId: "\${env:TEST_ACCESS_KEY_ID}", secretAccessKey: "\${env:TEST_SECRET_ACCESS_KEY}" }
deployments:
  - name: ${name}
    model: { uri: s3://mlscale-models/mnist-v${version}/model.tar.gz }
    instance: { type: ml.m5.xlarge }
    replicas: 1
    autoscaling: { minReplicas: ${autoscaling.minReplicas}, maxReplicas: ${autoscaling.maxReplicas}, target: { metric: requestsPerSecond, value: 5 } }
`,
      }),
    };
  }, 120_000);

  afterAll(async () => {
    await emulator?.close();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
    removeBuild();
  });

  it(
    'an autoscaled create, killed after each of several mutating requests',
    () => killDuringCreate(newDirectory, target),
    300_000,
  );

  it(
    'a model update, killed after each of several mutating requests',
    () => killDuringUpdate(newDirectory, target),
    300_000,
  );
});
