import { awsConformanceCloud, startAwsEmulator } from '@mlscale/aws/emulator';
import { afterAll } from 'vitest';
import { removeBuild, temporaryProject } from './cli-harness.js';
import { describeKillAndRerun } from './kill-and-rerun.js';

afterAll(() => removeBuild());

describeKillAndRerun('SageMaker', {
  newDirectory: () => temporaryProject('mlscale-aws-kill-'),
  start: async () => {
    const emulator = await startAwsEmulator();
    const autoscaling = { minReplicas: 1, maxReplicas: 3 };
    return {
      close: () => emulator.close(),
      target: {
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
      },
    };
  },
});
