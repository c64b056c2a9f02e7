import { createMlscale, isSealedValue, MlscaleError, specHash } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetNames } from '../src/adapter/deployment-fleet.js';
import { sagemaker } from '../src/index.js';
import { type Harness, roleArn, servingImage, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const modelUri = 's3://mlscale-models/mnist/model.tar.gz';
const apiToken = 'sk-deploy-requests-TOKEN-51c0';

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
      environment: { LOG_LEVEL: 'info', API_TOKEN: apiToken },
      encryption: { keyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd' },
      network: { subnets: ['subnet-1'], securityGroups: ['sg-1'] },
      tags: { team: 'vision' },
    };
    const status = await client.deploy(spec);
    const hash = status.specHash;
    // Config and models are named from the recorded (sealed) spec's fleet.
    const names = fleetNames(status.spec);
    expect(names.endpointConfig).toMatch(/^mnist-auto-[0-9a-f]{10}$/);

    const [model] = emulator.requestsFor('CreateModel');
    expect(model?.input).toMatchObject({
      ModelName: names.models[0],
      ExecutionRoleArn: roleArn,
      PrimaryContainer: {
        Image: servingImage,
        ModelDataUrl: modelUri,
        // The one place the secret's value goes: the container's own environment.
        Environment: { LOG_LEVEL: 'info', API_TOKEN: apiToken, MLSCALE_MODEL_FORMAT: 'onnx' },
      },
      VpcConfig: { Subnets: ['subnet-1'], SecurityGroupIds: ['sg-1'] },
    });
    // Models and configs carry small tags, never the spec.
    const smallTags = [
      { Key: 'mlscale:deployment', Value: 'mnist-auto' },
      { Key: 'mlscale:spec-hash', Value: hash },
      { Key: 'mlscale:fleet-hash', Value: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { Key: 'team', Value: 'vision' },
    ];
    expect(model?.input.Tags).toEqual(smallTags);

    const [config] = emulator.requestsFor('CreateEndpointConfig');
    expect(config?.input.Tags).toEqual(smallTags);
    expect(config?.input).toMatchObject({
      EndpointConfigName: names.endpointConfig,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: names.models[0],
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
      EndpointConfigName: names.endpointConfig,
    });
    // The endpoint carries the record: chunks of at most 256 characters, their count, the owner, the
    // user's tags; 50 tags at most.
    const endpointTags = endpoint?.input.Tags as { Key: string; Value: string }[];
    expect(endpointTags.length).toBeLessThanOrEqual(50);
    const chunks = endpointTags.filter((tag) => /^mlscale:record-[0-9a-f]+-\d+$/.test(tag.Key));
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((tag) => tag.Value.length <= 256)).toBe(true);
    const generation = /^mlscale:record-([0-9a-f]+)-/.exec(chunks[0]!.Key)?.[1];
    expect(endpointTags).toEqual(
      expect.arrayContaining([
        { Key: 'mlscale:deployment', Value: 'mnist-auto' },
        { Key: 'mlscale:chunks', Value: `${chunks.length}@${generation}` },
        { Key: 'team', Value: 'vision' },
      ]),
    );
    // The secret is sealed in the record and the status, and absent from every request but CreateModel.
    expect(isSealedValue(status.spec.environment?.API_TOKEN)).toBe(true);
    expect(status.spec.environment?.LOG_LEVEL).toBe('info');
    const elsewhere = emulator.requests.filter((request) => request.operation !== 'CreateModel');
    expect(JSON.stringify(elsewhere)).not.toContain(apiToken);
    expect(JSON.stringify(await client.get('mnist-auto'))).not.toContain(apiToken);

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
    expect(status.servingSpecHash).toBe(status.specHash);
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
        ModelName: fleetNames(status.spec).models[0],
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

  it('updates with a canary: a new config, blue/green with canary traffic shifting and an error-rate rollback alarm put first; the old config, model and alarm go once InService', async () => {
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
    const order = sent.map((request) => request.operation);
    // New models and config first, then the record, the alarm, the update; garbage collection last.
    expect(
      order.filter((operation) =>
        [
          'CreateModel',
          'CreateEndpointConfig',
          'AddTags',
          'PutMetricAlarm',
          'UpdateEndpoint',
          'DeleteEndpointConfig',
          'DeleteModel',
          'DeleteAlarms',
        ].includes(operation),
      ),
    ).toEqual([
      'CreateModel',
      'CreateEndpointConfig',
      'AddTags',
      'PutMetricAlarm',
      'UpdateEndpoint',
      'AddTags',
      'AddTags',
      'DeleteEndpointConfig',
      'DeleteModel',
      'DeleteAlarms',
    ]);
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
      EndpointConfigName: fleetNames(updated.spec).endpointConfig,
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
    // The step that found it InService on the new config removed the old config, its model and the alarm.
    expect(emulator.state.endpointConfigs.has(oldConfig)).toBe(false);
    expect([...emulator.state.models.keys()].filter((name) => name.startsWith('mnist-canary'))).toEqual(
      fleetNames(updated.spec).models,
    );
    expect(emulator.state.alarms.has('mlscale-rollback-mnist-canary')).toBe(false);
    // A read after that changes nothing.
    const reads = emulator.requests.length;
    await client.get('mnist-canary');
    expect(emulator.requests.slice(reads).map((request) => request.operation)).toEqual([
      'DescribeEndpoint',
      'ListTags',
      'DescribeScalableTargets',
    ]);
  });

  it('a model update of an autoscaled endpoint keeps its autoscaling; an instance type change lifts it for the update and puts it back', async () => {
    const { client, emulator } = harness;
    const autoscaling = {
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'cpuUtilization' as const, value: 70 },
    };
    await client.deploy({ name: 'mnist-scaled', model: { uri: modelUri }, autoscaling });
    const scalingOperations = [
      'DeregisterScalableTarget',
      'DeleteScalingPolicy',
      'UpdateEndpoint',
      'RegisterScalableTarget',
      'PutScalingPolicy',
    ];
    const orderSince = (before: number) =>
      emulator.requests
        .slice(before)
        .filter((request) => !request.error)
        .map((request) => request.operation)
        .filter((operation) => scalingOperations.includes(operation));
    const registered = () =>
      [...emulator.state.scalableTargets.values()]
        .filter((target) => target.ResourceId.includes('mnist-scaled'))
        .map((target) => [target.ResourceId, target.MinCapacity, target.MaxCapacity]);

    // SageMaker lets the model of a scaled variant change: nothing is deregistered.
    let before = emulator.requests.length;
    const unsubscribe = emulator.onOperation((request) => {
      if (request.operation === 'UpdateEndpoint')
        expect(registered(), 'registered while the update runs').toEqual([
          ['endpoint/mnist-scaled/variant/AllTraffic', 1, 3],
        ]);
    });
    const updated = await client.update({
      name: 'mnist-scaled',
      model: { uri: 's3://mlscale-models/v3/model.tar.gz' },
    });
    unsubscribe();
    expect(orderSince(before)).toEqual(['UpdateEndpoint']);
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

    // A new instance type for a scaled variant: Application Auto Scaling must let go of it first.
    before = emulator.requests.length;
    const retyped = await client.update({ name: 'mnist-scaled', instance: { type: 'ml.c5.xlarge' } });
    expect(orderSince(before)).toEqual([
      'DeregisterScalableTarget',
      'UpdateEndpoint',
      'RegisterScalableTarget',
      'PutScalingPolicy',
    ]);
    expect(retyped.state).toBe('InService');
    expect(retyped.autoscaling).toMatchObject({ minReplicas: 1, maxReplicas: 3 });
    expect(registered()).toEqual([['endpoint/mnist-scaled/variant/AllTraffic', 1, 3]]);

    await client.autoscale('mnist-scaled', null);
    expect((await client.get('mnist-scaled')).autoscaling).toBeUndefined();
    expect(registered()).toEqual([]);
  });

  it("a new model from a process that never saw the secrets: the new container gets the running one's values", async () => {
    const { client, emulator } = harness;
    const first = await client.deploy({
      name: 'mnist-secret',
      model: { uri: modelUri },
      environment: { API_TOKEN: apiToken, LOG_LEVEL: 'info' },
    });
    const other = createMlscale({
      backend: sagemaker(harness.settings),
      polling: { minDelayMs: 5, maxDelayMs: 20 },
    });
    // The client merges the change onto the recorded spec: the token comes back sealed.
    const updated = await other.update({
      name: 'mnist-secret',
      model: { uri: 's3://mlscale-models/v4/model.tar.gz' },
    });
    await other.close();
    expect(updated.state).toBe('InService');
    expect(updated.spec.environment?.API_TOKEN).toBe(first.spec.environment?.API_TOKEN);
    const model = emulator.state.models.get(fleetNames(updated.spec).models[0]!);
    const container = model?.PrimaryContainer as { Environment?: Record<string, string> } | undefined;
    expect(container?.Environment).toMatchObject({
      API_TOKEN: apiToken,
      LOG_LEVEL: 'info',
    });
    await client.delete('mnist-secret');
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

  it('moves from one model to a split at once, without a DeploymentConfig; refuses traffic steps for it before creating anything', async () => {
    const { client, emulator } = harness;
    await client.deploy({ name: 'mnist-to-split', model: { uri: modelUri } });
    const traffic = [
      { model: { uri: modelUri }, weight: 90 },
      { model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' }, weight: 10 },
    ];
    const created = () => emulator.requestsFor('CreateModel').length;
    const before = created();
    const refused = await client
      .update({ name: 'mnist-to-split', traffic, rollout: { steps: [50, 100], stepSeconds: 0 } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(MlscaleError.hasCode(refused, 'InvalidSpec')).toBe(true);
    expect((refused as MlscaleError).issues?.map((issue) => issue.path)).toEqual(['rollout.steps']);
    expect((refused as MlscaleError).message).toContain('AllTraffic → variant-1, variant-2');
    expect(created()).toBe(before);

    const updated = await client.update({
      name: 'mnist-to-split',
      traffic,
      rollout: { steps: [100], stepSeconds: 0 },
    });
    expect(updated.state).toBe('InService');
    expect(updated.traffic).toEqual([
      { version: 'variant-1', weight: 90 },
      { version: 'variant-2', weight: 10 },
    ]);
    // SageMaker keeps traffic shifting for configs that keep the variant names: this one is switched at once.
    expect(emulator.requestsFor('UpdateEndpoint').at(-1)?.input).toEqual({
      EndpointName: 'mnist-to-split',
      EndpointConfigName: fleetNames(updated.spec).endpointConfig,
    });
  });

  it('rolls a canary back when its alarm fires: the update fails, the record goes back to the serving spec, and the new config goes', async () => {
    const { client, emulator } = harness;
    const first = await client.deploy({ name: 'mnist-rollback', model: { uri: modelUri } });
    const unsubscribe = emulator.onOperation((request) => {
      if (request.operation === 'UpdateEndpoint') {
        const alarm = emulator.state.alarms.get('mlscale-rollback-mnist-rollback');
        if (alarm)
          alarm.manual = { StateValue: 'ALARM', StateReason: 'test: error rate 50%', at: Date.now() };
      }
    });
    let error: unknown;
    try {
      error = await client
        .update({
          name: 'mnist-rollback',
          model: { uri: 's3://mlscale-models/broken/model.tar.gz' },
          rollout: { steps: [20, 100], stepSeconds: 60 },
        })
        .then(() => undefined)
        .catch((caught: unknown) => caught);
    } finally {
      unsubscribe();
    }
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as MlscaleError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/rolled the update .* back/);
    expect((error as Error).message).toContain(`keeps serving spec ${first.specHash.slice(0, 12)}`);
    const after = await client.get('mnist-rollback');
    expect(after.state).toBe('InService');
    expect(after.details?.endpointConfigName).toBe(first.details?.endpointConfigName);
    expect(after.stateReason).toContain('rolled back');
    expect(after.specHash).toBe(first.specHash);
    expect(after.servingSpecHash).toBe(first.specHash);
    expect(after.spec.model).toEqual(first.spec.model);
    // The config the rollback abandoned is cleaned up, with its model.
    expect(
      [...emulator.state.endpointConfigs.keys()].filter((name) => name.startsWith('mnist-rollback')),
    ).toEqual([first.details?.endpointConfigName]);
    expect([...emulator.state.models.keys()].filter((name) => name.startsWith('mnist-rollback'))).toEqual(
      fleetNames(first.spec).models,
    );
  });
});
