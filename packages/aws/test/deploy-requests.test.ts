import { specHash } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, roleArn, servingImage, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const modelUri = 's3://mlscale-models/mnist/model.tar.gz';

describe('the exact requests sagemaker() sends', () => {
  it('deploys with autoscaling: CreateModel → CreateEndpointConfig → CreateEndpoint, then target tracking once InService', async () => {
    const { client, emulator } = harness;
    const spec = {
      name: 'mnist-auto',
      model: { uri: modelUri },
      instance: { type: 'ml.c5.xlarge' },
      replicas: 2,
      autoscaling: {
        minReplicas: 2,
        maxReplicas: 6,
        target: { metric: 'requestsPerSecond' as const, value: 10 },
        scaleInCooldownSeconds: 120,
        scaleOutCooldownSeconds: 30,
      },
      environment: { LOG_LEVEL: 'info' },
      encryption: { keyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd' },
      network: { subnets: ['subnet-1'], securityGroups: ['sg-1'] },
      tags: { team: 'vision' },
    };
    const status = await client.deploy(spec);
    const hash = status.specHash;
    const short = hash.slice(0, 10);

    const [model] = emulator.requestsFor('CreateModel');
    expect(model?.input).toMatchObject({
      ModelName: `mnist-auto-${short}-m0`,
      ExecutionRoleArn: roleArn,
      PrimaryContainer: {
        Image: servingImage,
        ModelDataUrl: modelUri,
        Environment: { LOG_LEVEL: 'info', MLSCALE_MODEL_FORMAT: 'onnx' },
      },
      VpcConfig: { Subnets: ['subnet-1'], SecurityGroupIds: ['sg-1'] },
    });
    expect(model?.input.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'mlscale:deployment', Value: 'mnist-auto' },
        { Key: 'mlscale:spec-hash', Value: hash },
        { Key: 'team', Value: 'vision' },
      ]),
    );

    const [config] = emulator.requestsFor('CreateEndpointConfig');
    expect(config?.input).toMatchObject({
      EndpointConfigName: `mnist-auto-${short}`,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: `mnist-auto-${short}-m0`,
          InitialVariantWeight: 100,
          InstanceType: 'ml.c5.xlarge',
          InitialInstanceCount: 2,
        },
      ],
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd',
    });

    const [endpoint] = emulator.requestsFor('CreateEndpoint');
    expect(endpoint?.input).toMatchObject({
      EndpointName: 'mnist-auto',
      EndpointConfigName: `mnist-auto-${short}`,
    });

    expect(emulator.requestsFor('RegisterScalableTarget').map((request) => request.input)).toEqual([
      {
        ServiceNamespace: 'sagemaker',
        ResourceId: 'endpoint/mnist-auto/variant/AllTraffic',
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        MinCapacity: 2,
        MaxCapacity: 6,
      },
    ]);
    expect(emulator.requestsFor('PutScalingPolicy').map((request) => request.input)).toEqual([
      {
        PolicyName: 'mlscale-target-tracking',
        ServiceNamespace: 'sagemaker',
        ResourceId: 'endpoint/mnist-auto/variant/AllTraffic',
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          // SageMaker counts invocations per instance per minute: 10 requests/s is 600.
          TargetValue: 600,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          ScaleInCooldown: 120,
          ScaleOutCooldown: 30,
          DisableScaleIn: false,
        },
      },
    ]);
    // The target is registered only after the endpoint was seen InService.
    const order = emulator.requests.map((request) => request.operation);
    expect(order.indexOf('RegisterScalableTarget')).toBeGreaterThan(order.indexOf('CreateEndpoint'));

    // What is in force reads back from Application Auto Scaling.
    expect(status.autoscaling).toMatchObject({
      minReplicas: 2,
      maxReplicas: 6,
      target: { metric: 'requestsPerSecond', value: 10 },
    });
    expect(status.specHash).toBe(specHash({ ...status.spec }));
    expect(status.replicas).toEqual({ desired: 2, ready: 2 });
  });

  it('deploys serverless: a ServerlessConfig variant, no instance type or count, no autoscaling calls', async () => {
    const { client, emulator } = harness;
    const before = emulator.requests.length;
    const status = await client.deploy({
      name: 'mnist-serverless',
      model: { uri: 's3://mlscale-models/mnist/' },
      serverless: { memoryMb: 3072, maxConcurrency: 8 },
      providerOptions: { aws: { provisionedConcurrency: 2 } },
    });
    const sent = emulator.requests.slice(before);
    const config = sent.find((request) => request.operation === 'CreateEndpointConfig' && !request.error);
    expect(config?.input.ProductionVariants).toEqual([
      {
        VariantName: 'AllTraffic',
        ModelName: `mnist-serverless-${status.specHash.slice(0, 10)}-m0`,
        InitialVariantWeight: 100,
        ServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 8, ProvisionedConcurrency: 2 },
      },
    ]);
    // An S3 prefix is served uncompressed, as SageMaker's ModelDataSource allows.
    const model = sent.find((request) => request.operation === 'CreateModel');
    expect(model?.input.PrimaryContainer).toMatchObject({
      ModelDataSource: {
        S3DataSource: {
          S3Uri: 's3://mlscale-models/mnist/',
          S3DataType: 'S3Prefix',
          CompressionType: 'None',
        },
      },
    });
    expect(
      sent.some(
        (request) => request.service === 'autoscaling' && request.operation !== 'DescribeScalableTargets',
      ),
    ).toBe(false);
    expect(status.details?.serverless).toBe(true);
    const prediction = await client.predict('mnist-serverless', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [4, 1, 9] }],
    });
    expect(prediction.outputs).toEqual([
      { name: 'sum', datatype: 'FP64', shape: [1], data: [14] },
      { name: 'argmax', datatype: 'INT64', shape: [1], data: [2] },
    ]);
    await expect(client.scale('mnist-serverless', 2)).rejects.toMatchObject({ code: 'Unsupported' });
    await client.delete('mnist-serverless');
  });

  it('updates with a canary: a new config, blue/green with canary traffic shifting and an error-rate rollback alarm; the old config and model go once InService', async () => {
    const { client, emulator } = harness;
    const first = await client.deploy({ name: 'mnist-canary', model: { uri: modelUri } });
    const oldConfig = first.details?.endpointConfigName as string;
    const before = emulator.requests.length;
    const updated = await client.update({
      name: 'mnist-canary',
      model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' },
      rollout: { steps: [10, 100], stepSeconds: 300, maxErrorRate: 0.02 },
    });
    const sent = emulator.requests.slice(before).filter((request) => !request.error);
    const alarm = sent.find((request) => request.operation === 'PutMetricAlarm');
    expect(alarm?.input).toMatchObject({
      AlarmName: 'mlscale-rollback-mnist-canary',
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Dimensions: [
        { Name: 'EndpointName', Value: 'mnist-canary' },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ],
      Statistic: 'Average',
      Threshold: 0.02,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const update = sent.find((request) => request.operation === 'UpdateEndpoint');
    expect(update?.input).toEqual({
      EndpointName: 'mnist-canary',
      EndpointConfigName: `mnist-canary-${updated.specHash.slice(0, 10)}`,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: {
            Type: 'CANARY',
            CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
            WaitIntervalInSeconds: 300,
          },
          TerminationWaitInSeconds: 300,
          MaximumExecutionTimeoutInSeconds: 1200,
        },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'mlscale-rollback-mnist-canary' }] },
      },
    });
    expect(sent.some((request) => request.operation === 'UpdateEndpointWeightsAndCapacities')).toBe(false);
    expect(updated.state).toBe('InService');
    expect(updated.details?.endpointConfigName).not.toBe(oldConfig);
    // Reading it once InService removes the retired config and its model.
    await client.get('mnist-canary');
    expect(emulator.state.endpointConfigs.has(oldConfig)).toBe(false);
    expect([...emulator.state.models.keys()].filter((name) => name.startsWith('mnist-canary'))).toEqual([
      `mnist-canary-${updated.specHash.slice(0, 10)}-m0`,
    ]);
  });

  it('a blue/green update of an autoscaled endpoint lifts the policy for the update and puts it back once InService', async () => {
    const { client, emulator } = harness;
    const autoscaling = {
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'cpuUtilization' as const, value: 70 },
    };
    await client.deploy({ name: 'mnist-scaled', model: { uri: modelUri }, autoscaling });
    const before = emulator.requests.length;
    const updated = await client.update({
      name: 'mnist-scaled',
      model: { uri: 's3://mlscale-models/v3/model.tar.gz' },
      autoscaling,
    });
    const order = emulator.requests
      .slice(before)
      .filter((request) => !request.error)
      .map((request) => request.operation)
      .filter((operation) =>
        ['DeregisterScalableTarget', 'UpdateEndpoint', 'RegisterScalableTarget', 'PutScalingPolicy'].includes(
          operation,
        ),
      );
    expect(order).toEqual([
      'DeregisterScalableTarget',
      'UpdateEndpoint',
      'RegisterScalableTarget',
      'PutScalingPolicy',
    ]);
    expect(updated.autoscaling).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'cpuUtilization', value: 70 },
    });
    const policy = emulator.requestsFor('PutScalingPolicy').at(-1)
      ?.input.TargetTrackingScalingPolicyConfiguration;
    expect(policy).toMatchObject({
      TargetValue: 70,
      CustomizedMetricSpecification: {
        MetricName: 'CPUUtilization',
        Namespace: '/aws/sagemaker/Endpoints',
        Statistic: 'Average',
        Dimensions: [
          { Name: 'EndpointName', Value: 'mnist-scaled' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
      },
    });
    await client.autoscale('mnist-scaled', null);
    expect((await client.get('mnist-scaled')).autoscaling).toBeUndefined();
    expect(
      [...emulator.state.scalableTargets.values()].filter((target) =>
        target.ResourceId.includes('mnist-scaled'),
      ),
    ).toEqual([]);
  });

  it('changes only capacity and weights in place with UpdateEndpointWeightsAndCapacities', async () => {
    const { client, emulator } = harness;
    await client.deploy({ name: 'mnist-inplace', model: { uri: modelUri }, replicas: 1 });
    const before = emulator.requests.length;
    const updated = await client.update({ name: 'mnist-inplace', model: { uri: modelUri }, replicas: 3 });
    const sent = emulator.requests.slice(before).filter((request) => !request.error);
    expect(
      sent.some((request) => request.operation === 'UpdateEndpoint' || request.operation === 'CreateModel'),
    ).toBe(false);
    expect(sent.find((request) => request.operation === 'UpdateEndpointWeightsAndCapacities')?.input).toEqual(
      {
        EndpointName: 'mnist-inplace',
        DesiredWeightsAndCapacities: [
          { VariantName: 'AllTraffic', DesiredWeight: 100, DesiredInstanceCount: 3 },
        ],
      },
    );
    expect(updated.replicas).toEqual({ desired: 3, ready: 3 });
    expect(updated.spec.replicas).toBe(3);
  });

  it('splits traffic across variants, one model each', async () => {
    const { client, emulator } = harness;
    const status = await client.deploy({
      name: 'mnist-split',
      model: { uri: modelUri },
      traffic: [
        { model: { uri: modelUri }, weight: 75 },
        { model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' }, weight: 25 },
      ],
    });
    expect(status.traffic).toEqual([
      { version: 'variant-1', weight: 75 },
      { version: 'variant-2', weight: 25 },
    ]);
    const served = new Map<string, number>();
    for (let index = 0; index < 8; index++) {
      await client.predict('mnist-split', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [index] }],
      });
    }
    for (const request of emulator.state.logGroups.get('/aws/sagemaker/Endpoints/mnist-split')?.events ??
      []) {
      if (!request.message.startsWith('POST')) continue;
      const variant = request.logStreamName.split('/')[0]!;
      served.set(variant, (served.get(variant) ?? 0) + 1);
    }
    // Smooth weighted round robin: exactly 6 of 8 to the 75% variant.
    expect(Object.fromEntries(served)).toEqual({ 'variant-1': 6, 'variant-2': 2 });
  });

  it('rolls a canary back when its alarm fires, and restores the recorded spec', async () => {
    const { client, emulator } = harness;
    const first = await client.deploy({ name: 'mnist-rollback', model: { uri: modelUri } });
    const unsubscribe = emulator.onOperation((request) => {
      if (request.operation === 'UpdateEndpoint') {
        const alarm = emulator.state.alarms.get('mlscale-rollback-mnist-rollback');
        if (alarm)
          alarm.manual = { StateValue: 'ALARM', StateReason: 'test: error rate 50%', at: Date.now() };
      }
    });
    try {
      const error = await client
        .update({
          name: 'mnist-rollback',
          model: { uri: 's3://mlscale-models/broken/model.tar.gz' },
          rollout: { steps: [20, 100], stepSeconds: 60 },
        })
        .then(() => undefined)
        .catch((caught: unknown) => caught);
      // The update itself settles InService (on the old fleet); the status says why.
      expect(error).toBeUndefined();
    } finally {
      unsubscribe();
    }
    const after = await client.get('mnist-rollback');
    expect(after.details?.endpointConfigName).toBe(first.details?.endpointConfigName);
    expect(after.stateReason).toContain('rolled back');
    expect(after.specHash).toBe(first.specHash);
    expect(after.spec.model).toEqual(first.spec.model);
    // The new config the rollback abandoned is cleaned up.
    expect(
      [...emulator.state.endpointConfigs.keys()].filter((name) => name.startsWith('mnist-rollback')),
    ).toEqual([first.details?.endpointConfigName]);
  });
});
