import {
  DescribeScalableTargetsCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  ListEndpointsCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEndpoint,
  createEndpointConfig,
  type EmulatorWithClients,
  refusal,
  startEmulatorWithClients,
  testImage,
  testRoleArn,
} from './sdk-clients-for-tests.js';

// What the emulator tells a test about the traffic it received and the state it holds, and the
// faults it answers with: the cloud side the conformance suite drives.

let clients: EmulatorWithClients;
beforeAll(async () => {
  clients = await startEmulatorWithClients();
});
afterAll(async () => clients.close());
beforeEach(() => {
  clients.emulator.faults.clear();
  clients.emulator.resetCalls();
});

const createModel = (ModelName: string, Environment?: Record<string, string>, abortSignal?: AbortSignal) =>
  clients.sageMaker.send(
    new CreateModelCommand({
      ModelName,
      ExecutionRoleArn: testRoleArn,
      PrimaryContainer: { Image: testImage, ...(Environment ? { Environment } : {}) },
      Tags: [{ Key: 'owner', Value: 'inspection-test' }],
    }),
    ...(abortSignal ? [{ abortSignal }] : []),
  );

describe('calls()', () => {
  it('lists every request in order, with its service, refusals and faults included', async () => {
    const started = Date.now();
    await createModel('called-model');
    await refusal(clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'missing' })));
    clients.emulator.faults.add({ kind: 'throttle', operation: 'ListEndpoints', count: 1 });
    await refusal(clients.sageMaker.send(new ListEndpointsCommand({})));
    await clients.autoScaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    await clients.cloudWatch.send(new DescribeAlarmsCommand({}));
    await clients.logs.send(new DescribeLogGroupsCommand({}));
    await refusal(
      clients.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'missing',
          ContentType: 'text/csv',
          Body: new Uint8Array([49]),
        }),
      ),
    );
    const calls = clients.emulator.calls();
    expect(calls.map(({ service, operation }) => `${service}.${operation}`)).toEqual([
      'SageMaker.CreateModel',
      'SageMaker.DescribeEndpoint',
      'SageMaker.ListEndpoints',
      'ApplicationAutoScaling.DescribeScalableTargets',
      'CloudWatch.DescribeAlarms',
      'CloudWatchLogs.DescribeLogGroups',
      'SageMakerRuntime.InvokeEndpoint',
    ]);
    expect(calls.every((call) => call.time >= started && call.time <= Date.now())).toBe(true);
    clients.emulator.resetCalls();
    expect(clients.emulator.calls()).toEqual([]);
  });
});

describe('faults', () => {
  it('deny access to one operation for the next N calls, in IAM’s words, HTTP 400', async () => {
    clients.emulator.faults.add({ kind: 'accessDenied', operation: 'CreateModel', count: 2 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await refusal(createModel('denied-model'));
      expect(error).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
      expect(error?.message).toBe(
        'User: arn:aws:sts::123456789012:assumed-role/mlscale-emulator/emulator-session is not authorized to perform: sagemaker:CreateModel on resource: arn:aws:sagemaker:us-east-1:123456789012:model/denied-model because no identity-based policy allows the sagemaker:CreateModel action',
      );
    }
    // Refused before it ran: nothing was created; then the fault is used up.
    expect(clients.emulator.inventory().models).not.toContain('denied-model');
    await createModel('denied-model');
    expect(clients.emulator.calls().map((call) => call.operation)).toEqual([
      'CreateModel',
      'CreateModel',
      'CreateModel',
    ]);
  });

  it('deny access the same way through kind "error" and on the other services', async () => {
    clients.emulator.faults.add({
      kind: 'error',
      operation: 'DescribeAlarms',
      count: 1,
      type: 'AccessDeniedException',
    });
    const cloudWatch = await refusal(clients.cloudWatch.send(new DescribeAlarmsCommand({})));
    expect(cloudWatch).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(cloudWatch?.message).toContain('is not authorized to perform: cloudwatch:DescribeAlarms');
    clients.emulator.faults.add({ kind: 'accessDenied', operation: 'RegisterScalableTarget', count: 1 });
    const autoScaling = await refusal(
      clients.autoScaling.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId: 'endpoint/any/variant/AllTraffic',
          ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
          MinCapacity: 1,
          MaxCapacity: 2,
        }),
      ),
    );
    expect(autoScaling?.message).toContain('application-autoscaling:RegisterScalableTarget on resource: *');
  });

  it('answer 500 InternalFailure, and throttle with ThrottlingException "Rate exceeded" 400', async () => {
    clients.emulator.faults.add({ kind: 'error', operation: 'DescribeEndpoint', count: 1 });
    clients.emulator.faults.add({ kind: 'throttle', operation: 'DescribeEndpoint', count: 1 });
    const failure = await refusal(clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'x' })));
    expect(failure).toMatchObject({
      name: 'InternalFailure',
      message: 'An internal error occurred. Please try again.',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    const throttled = await refusal(
      clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'x' })),
    );
    expect(throttled).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    clients.emulator.faults.add({ kind: 'throttle', operation: 'InvokeEndpoint', count: 1 });
    const runtime = await refusal(
      clients.runtime.send(
        new InvokeEndpointCommand({ EndpointName: 'x', ContentType: 'text/csv', Body: new Uint8Array([49]) }),
      ),
    );
    expect(runtime).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    // All used up: the real answer comes back.
    const missing = await refusal(clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'x' })));
    expect(missing).toMatchObject({ name: 'ValidationException', message: 'Could not find endpoint "x".' });
    expect(clients.emulator.faults.list()).toEqual([]);
  });
});

describe('onRequest()', () => {
  it('runs after the state changed and before the answer, so a client aborted there loses the answer', async () => {
    const controller = new AbortController();
    const seen: { call: string; heldModel: boolean }[] = [];
    const unsubscribe = clients.emulator.onRequest(({ service, operation }) => {
      seen.push({
        call: `${service}.${operation}`,
        heldModel: clients.emulator.inventory().models.includes('accepted-model'),
      });
      if (operation === 'CreateModel') controller.abort();
    });
    try {
      const error = await refusal(createModel('accepted-model', undefined, controller.signal));
      expect(error?.name).toBe('AbortError');
    } finally {
      unsubscribe();
    }
    expect(seen).toEqual([{ call: 'SageMaker.CreateModel', heldModel: true }]);
    // The cloud kept what it accepted, though the client never heard.
    expect(clients.emulator.inventory().models).toContain('accepted-model');
  });

  it('is not told of refused requests, waits for a listener’s promise, and stops when unsubscribed', async () => {
    const operations: string[] = [];
    const unsubscribe = clients.emulator.onRequest(async ({ operation }) => {
      operations.push(operation);
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    await refusal(clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'missing' })));
    const started = Date.now();
    await clients.cloudWatch.send(new DescribeAlarmsCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    unsubscribe();
    await clients.cloudWatch.send(new DescribeAlarmsCommand({}));
    expect(operations).toEqual(['DescribeAlarms']);
  });
});

describe('inventory()', () => {
  it('names what the account holds, and forgets what was deleted', async () => {
    await createEndpointConfig(clients, 'held', [{ VariantName: 'AllTraffic' }]);
    await createEndpoint(clients, 'held-endpoint', 'held');
    const target = {
      ServiceNamespace: 'sagemaker' as const,
      ResourceId: 'endpoint/held-endpoint/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
    };
    await clients.autoScaling.send(
      new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 2 }),
    );
    await clients.autoScaling.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'held-policy',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 5,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        },
      }),
    );
    await clients.cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'held-alarm',
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocations',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    const inventory = clients.emulator.inventory();
    expect(inventory).toMatchObject({
      endpoints: expect.arrayContaining(['held-endpoint']),
      endpointConfigs: expect.arrayContaining(['held']),
      models: expect.arrayContaining(['held-AllTraffic']),
      scalableTargets: ['endpoint/held-endpoint/variant/AllTraffic'],
      scalingPolicies: ['endpoint/held-endpoint/variant/AllTraffic:policyName/held-policy'],
      alarms: expect.arrayContaining(['held-alarm']),
    });
    await clients.sageMaker.send(new DeleteModelCommand({ ModelName: 'held-AllTraffic' }));
    expect(clients.emulator.inventory().models).not.toContain('held-AllTraffic');
  });
});

describe('dump()', () => {
  it('holds the whole state as JSON but no container environment value', async () => {
    await createModel('secret-model', { API_TOKEN: 'model-environment-secret' });
    await clients.sageMaker.send(
      new CreateTrainingJobCommand({
        TrainingJobName: 'secret-job',
        RoleArn: testRoleArn,
        AlgorithmSpecification: { TrainingImage: 'trainer:1', TrainingInputMode: 'File' },
        OutputDataConfig: { S3OutputPath: 's3://out/' },
        ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 10 },
        StoppingCondition: { MaxRuntimeInSeconds: 3600 },
        Environment: { WANDB_API_KEY: 'training-environment-secret' },
        // A secret anywhere else is a leak, and the dump shows it.
        HyperParameters: { password: 'leaked-into-hyperparameters' },
      }),
    );
    const dump = clients.emulator.dump();
    const state = JSON.parse(dump) as { models: { ModelName: string; PrimaryContainer: unknown }[] };
    expect(state.models.find((model) => model.ModelName === 'secret-model')?.PrimaryContainer).toEqual({
      Image: testImage,
      Environment: '[container environment]',
    });
    expect(dump).not.toContain('model-environment-secret');
    expect(dump).not.toContain('training-environment-secret');
    expect(dump).toContain('leaked-into-hyperparameters');
    expect(dump).toContain('inspection-test');
  });
});
