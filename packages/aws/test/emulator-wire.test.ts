import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  paginateListEndpoints,
  SageMakerClient,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  waitUntilTrainingJobCompletedOrStopped,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, forwardingPredictor, startAwsEmulator } from '../src/emulator/index.js';
import { fakeCredentials, roleArn, servingImage } from './emulator-harness.js';

let emulator: AwsEmulator;
let config: { region: string; endpoint: string; credentials: typeof fakeCredentials; maxAttempts: number };
let sageMaker: SageMakerClient;
const waiter = { maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.1 };

beforeAll(async () => {
  // Slow enough transitions that a state read right after a change still sees it in progress.
  emulator = await startAwsEmulator({
    badImages: ['bad:1'],
    delays: { endpointCreateMs: 1500, endpointUpdateMs: 1500 },
  });
  config = { region: 'us-east-1', endpoint: emulator.url, credentials: fakeCredentials, maxAttempts: 1 };
  sageMaker = new SageMakerClient(config);
});
afterAll(async () => {
  sageMaker.destroy();
  await emulator.close();
});

async function endpoint(name: string, image = servingImage): Promise<void> {
  await sageMaker.send(
    new CreateModelCommand({
      ModelName: `${name}-model`,
      ExecutionRoleArn: roleArn,
      PrimaryContainer: { Image: image, ModelDataUrl: 's3://b/m.tar.gz' },
    }),
  );
  await sageMaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: `${name}-model`,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 1,
        },
      ],
    }),
  );
  await sageMaker.send(
    new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }),
  );
}

describe('the emulator speaks the wire protocols the official SDK clients use', () => {
  it('SageMaker: the SDK waiters see Creating → InService and Deleting → gone; a bad image ends Failed', async () => {
    await endpoint('wire-a');
    expect(
      (await sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'wire-a' }))).EndpointStatus,
    ).toBe('Creating');
    const ready = await waitUntilEndpointInService(
      { client: sageMaker, ...waiter },
      { EndpointName: 'wire-a' },
    );
    expect(ready.state).toBe('SUCCESS');
    const described = await sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'wire-a' }));
    expect(described.CreationTime).toBeInstanceOf(Date);
    expect(described.ProductionVariants?.[0]).toMatchObject({
      VariantName: 'AllTraffic',
      CurrentInstanceCount: 1,
      DesiredInstanceCount: 1,
    });

    await endpoint('wire-bad', 'bad:1');
    await expect(
      waitUntilEndpointInService({ client: sageMaker, ...waiter }, { EndpointName: 'wire-bad' }),
    ).rejects.toThrow(/FAILURE/);
    const failed = await sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'wire-bad' }));
    expect(failed.EndpointStatus).toBe('Failed');
    expect(failed.FailureReason).toContain('bad:1');

    await sageMaker.send(new DeleteEndpointCommand({ EndpointName: 'wire-a' }));
    expect(
      (await waitUntilEndpointDeleted({ client: sageMaker, ...waiter }, { EndpointName: 'wire-a' })).state,
    ).toBe('SUCCESS');
  });

  it('SageMaker: errors carry the real __type names; a missing endpoint is a ValidationException "Could not find"', async () => {
    const missing = await sageMaker
      .send(new DescribeEndpointCommand({ EndpointName: 'nope' }))
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({
      name: 'ValidationException',
      message: 'Could not find endpoint "nope".',
      $metadata: { httpStatusCode: 400 },
    });
    await endpoint('wire-dup');
    const duplicate = await sageMaker
      .send(new CreateEndpointCommand({ EndpointName: 'wire-dup', EndpointConfigName: 'wire-dup-config' }))
      .catch((error: unknown) => error);
    expect((duplicate as Error).message).toMatch(
      /^Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint\/wire-dup"\.$/,
    );
    const job = {
      TrainingJobName: 'wire-job',
      RoleArn: roleArn,
      AlgorithmSpecification: { TrainingImage: 'img:1', TrainingInputMode: 'File' as const },
      OutputDataConfig: { S3OutputPath: 's3://o/' },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge' as const, InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    };
    await sageMaker.send(new CreateTrainingJobCommand(job));
    const again = await sageMaker.send(new CreateTrainingJobCommand(job)).catch((error: unknown) => error);
    expect(again).toMatchObject({ name: 'ResourceInUse', $fault: 'client' });
    const spotWithoutWait = await sageMaker
      .send(
        new CreateTrainingJobCommand({
          ...job,
          TrainingJobName: 'wire-spot',
          EnableManagedSpotTraining: true,
        }),
      )
      .catch((error: unknown) => error);
    expect((spotWithoutWait as Error).message).toContain('MaxWaitTimeInSeconds');
    const done = await waitUntilTrainingJobCompletedOrStopped(
      { client: sageMaker, ...waiter },
      { TrainingJobName: 'wire-job' },
    );
    expect(done.state).toBe('SUCCESS');
    const described = await sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'wire-job' }));
    expect(described).toMatchObject({
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      TrainingTimeInSeconds: 230,
      BillableTimeInSeconds: 230,
    });
    await expect(
      sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'never' })),
    ).rejects.toThrow('Requested resource not found.');
  });

  it('SageMaker: ListEndpoints pages with NextToken', async () => {
    for (const name of ['page-1', 'page-2', 'page-3', 'page-4', 'page-5']) await endpoint(name);
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateListEndpoints(
      { client: sageMaker, pageSize: 2 },
      { NameContains: 'page-' },
    )) {
      pages++;
      names.push(...(page.Endpoints ?? []).map((summary) => summary.EndpointName!));
    }
    expect(pages).toBe(3);
    expect(names.sort()).toEqual(['page-1', 'page-2', 'page-3', 'page-4', 'page-5']);
  });

  it('throttles, fails and delays the next calls of an operation as asked', async () => {
    emulator.faults.add({ kind: 'throttle', operation: 'DescribeEndpoint', count: 1 });
    const throttled = await sageMaker
      .send(new DescribeEndpointCommand({ EndpointName: 'page-1' }))
      .catch((error: unknown) => error);
    expect(throttled).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    // The SDK's own retry recovers from it when allowed to retry.
    const retrying = new SageMakerClient({ ...config, maxAttempts: 2, retryStrategy: undefined });
    emulator.faults.add({ kind: 'error', operation: 'DescribeEndpoint', count: 1, status: 503 });
    expect((await retrying.send(new DescribeEndpointCommand({ EndpointName: 'page-1' }))).EndpointName).toBe(
      'page-1',
    );
    retrying.destroy();
    emulator.faults.add({ kind: 'latency', operation: 'ListEndpoints', ms: 150, count: 1 });
    const started = Date.now();
    await paginateListEndpoints({ client: sageMaker }, {}).next();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('Runtime: InvokeEndpoint over restJson, with ModelError 424 for a model’s 4xx', async () => {
    await waitUntilEndpointInService({ client: sageMaker, ...waiter }, { EndpointName: 'page-1' });
    const runtime = new SageMakerRuntimeClient(config);
    const answer = await runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'page-1',
        ContentType: 'text/csv',
        Body: new TextEncoder().encode('1,2,3\n4,5,6\n'),
      }),
    );
    expect(new TextDecoder().decode(answer.Body)).toBe('6\n15');
    expect(answer.InvokedProductionVariant).toBe('AllTraffic');
    const modelError = await runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'page-1',
          ContentType: 'application/json',
          Body: new TextEncoder().encode('{"nope":1}'),
        }),
      )
      .catch((error: unknown) => error);
    expect(modelError).toMatchObject({
      name: 'ModelError',
      OriginalStatusCode: 400,
      $metadata: { httpStatusCode: 424 },
    });
    const missing = await runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'ghost',
          ContentType: 'application/json',
          Body: new TextEncoder().encode('{}'),
        }),
      )
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({
      name: 'ValidationError',
      message: 'Endpoint ghost of account 123456789012 not found.',
    });
    runtime.destroy();
  });

  it('Application Auto Scaling: registers a variant and clamps its capacity into the bounds', async () => {
    const autoScaling = new ApplicationAutoScalingClient(config);
    const target = {
      ServiceNamespace: 'sagemaker' as const,
      ResourceId: 'endpoint/page-1/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
    };
    await autoScaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 3, MaxCapacity: 5 }));
    expect(
      (await autoScaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' })))
        .ScalableTargets,
    ).toHaveLength(1);
    expect(
      (await sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'page-1' }))).EndpointStatus,
    ).toBe('Updating');
    await waitUntilEndpointInService({ client: sageMaker, ...waiter }, { EndpointName: 'page-1' });
    expect(
      (await sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'page-1' }))).ProductionVariants?.[0]
        ?.CurrentInstanceCount,
    ).toBe(3);
    const unregistered = await autoScaling
      .send(
        new PutScalingPolicyCommand({
          ...target,
          ResourceId: 'endpoint/page-2/variant/AllTraffic',
          PolicyName: 'p',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 1,
            PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          },
        }),
      )
      .catch((error: unknown) => error);
    expect(unregistered).toMatchObject({ name: 'ObjectNotFoundException' });
    autoScaling.destroy();
  });

  it('Application Auto Scaling: target tracking scales a variant out on the invocations it served', async () => {
    const scaling = await startAwsEmulator({ delays: { autoscalingEvaluationMs: 0 } });
    const client = new SageMakerClient({ ...config, endpoint: scaling.url });
    const autoScaling = new ApplicationAutoScalingClient({ ...config, endpoint: scaling.url });
    const runtime = new SageMakerRuntimeClient({ ...config, endpoint: scaling.url });
    try {
      await client.send(
        new CreateModelCommand({
          ModelName: 'sm',
          ExecutionRoleArn: roleArn,
          PrimaryContainer: { Image: servingImage },
        }),
      );
      await client.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'sc',
          ProductionVariants: [
            {
              VariantName: 'AllTraffic',
              ModelName: 'sm',
              InstanceType: 'ml.m5.large',
              InitialInstanceCount: 1,
            },
          ],
        }),
      );
      await client.send(new CreateEndpointCommand({ EndpointName: 'scaled', EndpointConfigName: 'sc' }));
      await waitUntilEndpointInService({ client, ...waiter }, { EndpointName: 'scaled' });
      const target = {
        ServiceNamespace: 'sagemaker' as const,
        ResourceId: 'endpoint/scaled/variant/AllTraffic',
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
      };
      await autoScaling.send(
        new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 4 }),
      );
      await autoScaling.send(
        new PutScalingPolicyCommand({
          ...target,
          PolicyName: 'track',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 2,
            PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
            ScaleOutCooldown: 0,
          },
        }),
      );
      for (let index = 0; index < 6; index++) {
        await runtime.send(
          new InvokeEndpointCommand({
            EndpointName: 'scaled',
            ContentType: 'text/csv',
            Body: new TextEncoder().encode('1,2'),
          }),
        );
      }
      // 6 invocations a minute on 1 instance against a target of 2: ceil(1 × 6 / 2) = 3 instances.
      expect(
        (await client.send(new DescribeEndpointCommand({ EndpointName: 'scaled' }))).EndpointStatus,
      ).toBe('Updating');
      await waitUntilEndpointInService({ client, ...waiter }, { EndpointName: 'scaled' });
      expect(
        (await client.send(new DescribeEndpointCommand({ EndpointName: 'scaled' }))).ProductionVariants?.[0]
          ?.CurrentInstanceCount,
      ).toBe(3);
    } finally {
      client.destroy();
      autoScaling.destroy();
      runtime.destroy();
      await scaling.close();
    }
  });

  it('CloudWatch (JSON 1.0) and Logs (JSON 1.1): metric data and log events round-trip', async () => {
    const cloudWatch = new CloudWatchClient(config);
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
    const dimensions = [{ Name: 'Queue', Value: 'q1' }];
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: 'Custom/App',
        MetricData: [
          { MetricName: 'Depth', Dimensions: dimensions, Timestamp: at, Value: 2 },
          { MetricName: 'Depth', Dimensions: dimensions, Timestamp: new Date(at.getTime() + 1000), Value: 6 },
          {
            MetricName: 'Depth',
            Dimensions: dimensions,
            Timestamp: new Date(at.getTime() + 60_000),
            Values: [1, 3],
            Counts: [1, 3],
          },
        ],
      }),
    );
    const data = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: at,
        EndTime: new Date(at.getTime() + 180_000),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          {
            Id: 'sum',
            MetricStat: {
              Metric: { Namespace: 'Custom/App', MetricName: 'Depth', Dimensions: dimensions },
              Period: 60,
              Stat: 'Sum',
            },
          },
          {
            Id: 'max',
            MetricStat: {
              Metric: { Namespace: 'Custom/App', MetricName: 'Depth', Dimensions: dimensions },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    expect(data.MetricDataResults?.[0]).toMatchObject({ Id: 'sum', Values: [8, 10], StatusCode: 'Complete' });
    expect(data.MetricDataResults?.[0]?.Timestamps).toEqual([at, new Date(at.getTime() + 60_000)]);
    expect(data.MetricDataResults?.[1]?.Values).toEqual([6, 3]);
    cloudWatch.destroy();

    const logs = new CloudWatchLogsClient(config);
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/app' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/app', logStreamName: 's1' }));
    const now = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/app',
        logStreamName: 's1',
        logEvents: Array.from({ length: 150 }, (_, index) => ({
          timestamp: now + index,
          message: `line ${index} ${index % 2 ? 'odd' : 'even'}`,
        })),
      }),
    );
    const first = await logs.send(new FilterLogEventsCommand({ logGroupName: '/app' }));
    expect(first.events).toHaveLength(100);
    const second = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/app', nextToken: first.nextToken }),
    );
    expect(second.events).toHaveLength(50);
    expect(second.nextToken).toBeUndefined();
    const odd = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/app', filterPattern: '"odd"', startTime: now + 100 }),
    );
    expect(odd.events?.map((event) => event.message)).toHaveLength(25);
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: '/missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    logs.destroy();
  });

  it('answers malformed requests with errors and keeps serving', async () => {
    const send = (path: string, init: RequestInit) =>
      fetch(`${emulator.url}${path}`, init).then(async (response) => ({
        status: response.status,
        body: await response.text(),
      }));
    const json = (target: string, body: string) =>
      send('/', {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
        body,
      });
    const answers = [
      await send('/', { method: 'GET' }),
      await json('SageMaker.DescribeEndpoint', '{not json'),
      await json('SageMaker.DescribeEndpoint', '[1,2]'),
      await json('SageMaker.NoSuchOperation', '{}'),
      await json('SageMaker.DescribeEndpoint', '{"EndpointName": 5}'),
      await json(
        'SageMaker.CreateEndpointConfig',
        '{"EndpointConfigName": "x", "ProductionVariants": "nope"}',
      ),
      await json('SageMaker.ListEndpoints', '{"NextToken": "!!", "MaxResults": "ten"}'),
      await json(
        'GraniteServiceVersion20100801.GetMetricData',
        '{"MetricDataQueries": [{"Id": "a"}], "StartTime": 1, "EndTime": 2}',
      ),
      await json(
        'Logs_20140328.FilterLogEvents',
        '{"logGroupName": "/aws/sagemaker/Endpoints/page-1", "nextToken": "%%%"}',
      ),
      await send('/endpoints/%E0%A4%A/invocations', { method: 'POST', body: 'x' }),
      await send('/endpoints/page-1/invocations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '\u0000',
      }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(() => JSON.parse(answer.body)).not.toThrow();
    }
    expect((await sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'page-1' }))).EndpointName).toBe(
      'page-1',
    );
  });

  it('validates its options and faults, naming the field', async () => {
    const error = await startAwsEmulator({ port: -1, accountId: '42', delays: { trainingStepMs: -5 } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'InvalidSpec' });
    expect((error as { issues: { path: string }[] }).issues.map((issue) => issue.path).sort()).toEqual([
      'accountId',
      'delays.trainingStepMs',
      'port',
    ]);
    expect(() => emulator.faults.add({ kind: 'throttle', operation: 'CreateEndpoint', count: 0 })).toThrow(
      /count/,
    );
    expect(() => forwardingPredictor('127.0.0.1:8080')).toThrow(/expected an http\(s\) base URL/);
  });

  it('forwards invocations to a server speaking SageMaker’s runtime path, when given one', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"from":"local-server"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    const forwarding = await startAwsEmulator({
      predictor: forwardingPredictor(`http://127.0.0.1:${address.port}`),
    });
    try {
      const client = new SageMakerClient({ ...config, endpoint: forwarding.url });
      await client.send(
        new CreateModelCommand({
          ModelName: 'fm',
          ExecutionRoleArn: roleArn,
          PrimaryContainer: { Image: servingImage },
        }),
      );
      await client.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'fc',
          ProductionVariants: [
            {
              VariantName: 'AllTraffic',
              ModelName: 'fm',
              InstanceType: 'ml.m5.large',
              InitialInstanceCount: 1,
            },
          ],
        }),
      );
      await client.send(new CreateEndpointCommand({ EndpointName: 'forwarded', EndpointConfigName: 'fc' }));
      await waitUntilEndpointInService({ client, ...waiter }, { EndpointName: 'forwarded' });
      const runtime = new SageMakerRuntimeClient({ ...config, endpoint: forwarding.url });
      const answer = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'forwarded',
          ContentType: 'application/json',
          Body: new TextEncoder().encode('{}'),
        }),
      );
      expect(new TextDecoder().decode(answer.Body)).toBe('{"from":"local-server"}');
      expect(seen).toEqual(['POST /endpoints/forwarded/invocations application/json']);
      client.destroy();
      runtime.destroy();
    } finally {
      await forwarding.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
