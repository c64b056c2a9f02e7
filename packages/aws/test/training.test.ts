import { MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type Harness, roleArn, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ badImages: ['bad-training:1'] });
});
afterAll(async () => harness.close());

const image = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-gpu-py311';

describe('training on SageMaker', () => {
  it('sends a spot, distributed job exactly as SageMaker expects and reports its interruption and billing', async () => {
    const { client, emulator } = harness;
    emulator.faults.add({ kind: 'interruptSpot', jobName: 'spot-ddp', count: 1 });
    const status = await client.train({
      name: 'spot-ddp',
      image,
      command: ['torchrun', 'train.py', '--epochs', '3'],
      inputs: {
        train: { uri: 's3://data/train/' },
        validation: { uri: 's3://data/val/', mode: 'stream', contentType: 'application/x-npy' },
      },
      output: { uri: 's3://models/out/' },
      hyperparameters: { epochs: 3, learning_rate: 0.5, amp: true },
      resources: { instanceType: 'ml.g5.12xlarge', instanceCount: 2, gpus: 4 },
      distribution: { nodes: 2, processesPerNode: 4 },
      spot: { maxWaitSeconds: 7200, checkpointPath: 's3://models/checkpoints/spot-ddp/' },
      maxRuntimeSeconds: 3600,
      environment: { NCCL_DEBUG: 'INFO' },
      metricDefinitions: [{ name: 'train:loss', regex: 'train_loss=([0-9.]+)' }],
      providerOptions: {
        aws: {
          kmsKeyId: 'alias/training',
          volumeSizeGb: 100,
          subnets: ['subnet-a'],
          securityGroupIds: ['sg-a'],
        },
      },
    });
    const [request] = emulator.requestsFor('CreateTrainingJob');
    expect(request?.input).toEqual({
      TrainingJobName: 'spot-ddp',
      RoleArn: roleArn,
      AlgorithmSpecification: {
        TrainingImage: image,
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['torchrun'],
        ContainerArguments: ['train.py', '--epochs', '3'],
        MetricDefinitions: [{ Name: 'train:loss', Regex: 'train_loss=([0-9.]+)' }],
      },
      HyperParameters: {
        epochs: '3',
        learning_rate: '0.5',
        amp: 'true',
        sagemaker_torch_distributed_enabled: 'true',
      },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://data/train/',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
          InputMode: 'File',
        },
        {
          ChannelName: 'validation',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://data/val/',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
          InputMode: 'Pipe',
          ContentType: 'application/x-npy',
        },
      ],
      OutputDataConfig: { S3OutputPath: 's3://models/out/', KmsKeyId: 'alias/training' },
      ResourceConfig: {
        InstanceType: 'ml.g5.12xlarge',
        InstanceCount: 2,
        VolumeSizeInGB: 100,
        VolumeKmsKeyId: 'alias/training',
      },
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: 's3://models/checkpoints/spot-ddp/', LocalPath: '/opt/ml/checkpoints' },
      VpcConfig: { Subnets: ['subnet-a'], SecurityGroupIds: ['sg-a'] },
      Environment: {
        NCCL_DEBUG: 'INFO',
        MLSCALE_NPROC_PER_NODE: '4',
        MLSCALE_NNODES: '2',
        MLSCALE_DISTRIBUTION: 'torch',
      },
      Tags: expect.arrayContaining([{ Key: 'mlscale:training-job', Value: 'spot-ddp' }]),
    });
    expect(status.state).toBe('Completed');
    expect(status.secondaryStatus).toBe('Completed');
    expect(status.interruptions).toBe(1);
    expect(status.trainingSeconds).toBeGreaterThan(0);
    // Managed spot: billed for less than it trained.
    expect(status.billableSeconds).toBeLessThan(status.trainingSeconds!);
    expect(status.modelUri).toBe('s3://models/out/spot-ddp/output/model.tar.gz');
    // The final metric comes from the job's own log lines through its metric definition.
    expect(status.finalMetrics?.['train:loss']).toBeCloseTo(2.3 * Math.exp(-0.5 * 3 * 3), 3);
    // The spec reads back from the job's tags.
    expect(status.spec.distribution).toEqual({ nodes: 2, processesPerNode: 4 });
    const transitions = (status.details!.secondaryStatusTransitions as { status: string }[]).map(
      (entry) => entry.status,
    );
    expect(transitions).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Interrupted',
      'Training',
      'Uploading',
      'Completed',
    ]);
  });

  it('gives a spot job without maxRuntimeSeconds a runtime limit SageMaker accepts: at most its wait', async () => {
    const { client, emulator } = harness;
    const status = await client.train({
      name: 'spot-default-runtime',
      image,
      output: { uri: 's3://models/out/' },
      spot: { maxWaitSeconds: 3600, checkpointPath: 's3://models/checkpoints/spot-default-runtime/' },
    });
    expect(status.state).toBe('Completed');
    const [request] = emulator
      .requestsFor('CreateTrainingJob')
      .filter((entry) => entry.input.TrainingJobName === 'spot-default-runtime');
    // 86400 (the default without spot) would be refused: MaxWaitTimeInSeconds must be ≥ MaxRuntimeInSeconds.
    expect(request?.input.StoppingCondition).toEqual({
      MaxRuntimeInSeconds: 3600,
      MaxWaitTimeInSeconds: 3600,
    });
  });

  it('follows a training job’s logs until it ends', async () => {
    const { client } = harness;
    await client.train(
      {
        name: 'followed',
        image,
        output: { uri: 's3://models/out/' },
        hyperparameters: { epochs: 4 },
        resources: { instanceCount: 2 },
      },
      { wait: false },
    );
    const lines: { source: string; message: string }[] = [];
    for await (const entry of client.logs({ job: 'followed' }, { follow: true })) lines.push(entry);
    const epochs = lines.filter((line) => line.message.startsWith('epoch='));
    // Two hosts, four epochs, each line once.
    expect(epochs).toHaveLength(8);
    expect(new Set(lines.map((line) => line.source))).toEqual(new Set(['algo-1', 'algo-2']));
    expect(lines.at(-1)?.message).toBe('Reporting training SUCCESS');
    expect((await client.job('followed')).state).toBe('Completed');
    const filtered = [];
    for await (const entry of client.logs({ job: 'followed' }, { filter: 'epoch=2', limit: 1 }))
      filtered.push(entry.message);
    expect(filtered).toEqual([expect.stringMatching(/^epoch=2 train_loss=/)]);
  });

  it('stops a job: Stopping, then Stopped', async () => {
    // Slow steps, so the job is still training when the stop arrives however busy the machine is.
    const slow = await startHarness({ delays: { trainingStepMs: 500 } });
    onTestFinished(() => slow.close());
    const { client } = slow;
    await client.train(
      { name: 'to-stop', image, output: { uri: 's3://models/out/' }, hyperparameters: { epochs: 50 } },
      { wait: false },
    );
    const stopped = await client.stopJob('to-stop');
    expect(stopped.state).toBe('Stopped');
    expect(stopped.secondaryStatus).toBe('Stopped');
    // Stopping a stopped job answers its status.
    expect((await client.stopJob('to-stop')).state).toBe('Stopped');
  });

  it('reports MaxRuntimeExceeded and a failed image as train() failures', async () => {
    const { client } = harness;
    const overtime = await client
      .train({
        name: 'overtime',
        image,
        output: { uri: 's3://models/out/' },
        hyperparameters: { epochs: 10 },
        maxRuntimeSeconds: 120,
      })
      .catch((error: unknown) => error);
    expect(MlscaleError.hasCode(overtime, 'BackendFailure')).toBe(true);
    expect((overtime as Error).message).toContain(
      'Stopped: Training job runtime exceeded MaxRuntimeInSeconds (120 s)',
    );
    expect((await client.job('overtime')).secondaryStatus).toBe('MaxRuntimeExceeded');

    const failed = await client
      .train({ name: 'bad-image', image: 'bad-training:1', output: { uri: 's3://models/out/' } })
      .catch((error: unknown) => error);
    expect((failed as Error).message).toContain('Failed to pull the training image "bad-training:1"');
    const status = await client.job('bad-image');
    expect(status.state).toBe('Failed');
    expect(status.failureReason).toContain('ClientError');
  });

  it('refuses what SageMaker cannot run, naming the field, before calling it', async () => {
    const { client, emulator } = harness;
    const before = emulator.requests.length;
    await expect(
      client.train({ name: 'no-image', command: ['python', 'train.py'], output: { uri: 's3://o/' } }),
    ).rejects.toMatchObject({
      code: 'InvalidSpec',
      issues: [{ path: 'image', message: 'expected a container image URI' }],
    });
    await expect(
      client.train({ name: 'local-out', image, output: { uri: '/tmp/out' } }),
    ).rejects.toMatchObject({
      code: 'InvalidSpec',
      issues: [{ path: 'output.uri', message: 'expected an s3:// URI' }],
    });
    await expect(
      client.train({
        name: 'bad-vpc',
        image,
        output: { uri: 's3://o/' },
        providerOptions: { aws: { subnets: ['subnet-1'] } },
      }),
    ).rejects.toMatchObject({ code: 'InvalidSpec', issues: [{ path: 'subnets' }] });
    await expect(
      client.train({
        name: 'no-bucket',
        image,
        inputs: { train: { uri: './data' } },
        output: { uri: 's3://o/' },
      }),
    ).rejects.toThrow(/artifactBucket/);
    expect(
      emulator.requests.slice(before).filter((request) => request.operation === 'CreateTrainingJob'),
    ).toEqual([]);
    await expect(client.train({ name: 'spot-ddp', image, output: { uri: 's3://o/' } })).rejects.toMatchObject(
      { code: 'AlreadyExists' },
    );
  });
});
