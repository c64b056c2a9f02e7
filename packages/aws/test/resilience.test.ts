import { inspect } from 'node:util';
import { CreateModelCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { createMlscale, MlscaleError, memoryAuditSink } from '@mlscale/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sagemaker } from '../src/index.js';
import { fakeCredentials, type Harness, roleArn, servingImage, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ badImages: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/broken:1'] });
});
afterAll(async () => harness.close());
// A test that fails with faults armed must not fail the next ones.
afterEach(() => harness.emulator.faults.clear());

const modelUri = 's3://mlscale-models/mnist/model.tar.gz';

function owned(names: Iterable<string>, prefix: string): string[] {
  return [...names].filter((name) => name.startsWith(prefix)).sort();
}

/** A model made with the SDK directly, as another tool would. */
async function sageMakerCreateModel(target: Harness, name: string): Promise<void> {
  const sageMaker = new SageMakerClient({
    region: 'us-east-1',
    endpoint: target.emulator.url,
    credentials: fakeCredentials,
    maxAttempts: 1,
  });
  await sageMaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: roleArn,
      PrimaryContainer: { Image: servingImage, ModelDataUrl: modelUri },
    }),
  );
  sageMaker.destroy();
}

describe('interrupted and failed deploys', () => {
  it('a deploy interrupted after CreateEndpointConfig, run again, converges with no orphans', async () => {
    const { client, emulator } = harness;
    const controller = new AbortController();
    const unsubscribe = emulator.onOperation((request) => {
      if (
        request.operation === 'CreateEndpointConfig' &&
        request.input.EndpointConfigName?.toString().startsWith('resume-')
      ) {
        controller.abort();
      }
    });
    const spec = { name: 'resume', model: { uri: modelUri }, replicas: 2 };
    const error = await client.deploy(spec, { signal: controller.signal }).catch((caught: unknown) => caught);
    unsubscribe();
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
    expect((error as Error).message).toContain('CreateEndpointConfig was aborted');
    // What the first run made is still there; no endpoint yet, so nothing was recorded.
    expect(owned(emulator.state.models.keys(), 'resume')).toHaveLength(1);
    expect(owned(emulator.state.endpointConfigs.keys(), 'resume')).toHaveLength(1);
    expect(emulator.state.endpoints.has('resume')).toBe(false);

    const status = await client.deploy(spec);
    expect(status.state).toBe('InService');
    expect(status.replicas.ready).toBe(2);
    // The second run adopted the model and config (same names, same spec-hash tag): nothing extra.
    expect(owned(emulator.state.models.keys(), 'resume')).toHaveLength(1);
    expect(owned(emulator.state.endpointConfigs.keys(), 'resume')).toEqual([
      status.details?.endpointConfigName,
    ]);
    expect(
      emulator.requests
        .filter(
          (request) =>
            request.operation === 'CreateModel' && request.input.ModelName?.toString().startsWith('resume'),
        )
        .map((request) => request.error),
    ).toEqual([undefined, 'ValidationException']);
    await client.delete('resume');
    expect(owned(emulator.state.models.keys(), 'resume')).toEqual([]);
    expect(owned(emulator.state.endpointConfigs.keys(), 'resume')).toEqual([]);
  });

  it('a first deploy that died before CreateEndpoint: delete finds its model and config by name and tag and removes them', async () => {
    const { client, emulator } = harness;
    const controller = new AbortController();
    const unsubscribe = emulator.onRequest(({ operation }) => {
      if (operation === 'CreateEndpointConfig') controller.abort();
    });
    const spec = { name: 'orphaned', model: { uri: modelUri } };
    const error = await client.deploy(spec, { signal: controller.signal }).catch((caught: unknown) => caught);
    unsubscribe();
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
    expect(owned(emulator.state.models.keys(), 'orphaned-')).toHaveLength(1);
    expect(owned(emulator.state.endpointConfigs.keys(), 'orphaned-')).toHaveLength(1);
    // A model named like one of ours but not tagged as ours is not touched.
    await sageMakerCreateModel(harness, 'orphaned-0123456789-m7');
    expect(await client.delete('orphaned')).toEqual({ deleted: true });
    expect(owned(emulator.state.models.keys(), 'orphaned-')).toEqual(['orphaned-0123456789-m7']);
    expect(owned(emulator.state.endpointConfigs.keys(), 'orphaned-')).toEqual([]);
    expect(await client.delete('orphaned')).toEqual({ deleted: false });
  });

  it('two deploys of the same spec at once converge on one endpoint, config and model', async () => {
    const { client, emulator } = harness;
    const spec = { name: 'twins', model: { uri: modelUri } };
    const [first, second] = await Promise.all([client.deploy(spec), client.deploy(spec)]);
    expect(first.state).toBe('InService');
    expect(second.specHash).toBe(first.specHash);
    expect(owned(emulator.state.models.keys(), 'twins')).toHaveLength(1);
    expect(owned(emulator.state.endpointConfigs.keys(), 'twins')).toHaveLength(1);
    expect(
      emulator.requestsFor('CreateEndpoint').filter((request) => request.input.EndpointName === 'twins'),
    ).toHaveLength(1);
    await client.delete('twins');
  });

  it('a deploy that fails removes what it created and says so', async () => {
    const { emulator } = harness;
    const client = createMlscale({ backend: sagemaker(harness.settings), retry: false });
    emulator.faults.add({
      kind: 'error',
      operation: 'CreateEndpoint',
      count: 1,
      status: 400,
      type: 'ResourceLimitExceeded',
      message: 'The account-level service limit for ml.p4d.24xlarge for endpoint usage is 0 Instances.',
    });
    const error = await client
      .deploy({ name: 'quota', model: { uri: modelUri } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'QuotaExceeded')).toBe(true);
    expect((error as MlscaleError).provider).toBe('aws');
    expect((error as Error).message).toContain('service limit');
    expect((error as Error).message).toMatch(/request id [0-9a-f-]{36}/);
    expect((error as Error).message).toMatch(
      /Removed what this deploy created \(model quota-\w+-m0, endpoint config quota-\w+\)/,
    );
    expect(owned(emulator.state.models.keys(), 'quota')).toEqual([]);
    expect(owned(emulator.state.endpointConfigs.keys(), 'quota')).toEqual([]);
  });

  it('a failed endpoint surfaces its FailureReason, and delete removes everything', async () => {
    const { client, emulator } = harness;
    const error = await client
      .deploy({
        name: 'broken',
        model: { uri: modelUri },
        providerOptions: { aws: { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/broken:1' } },
      })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as Error).message).toContain(
      'Failed to download the image "123456789012.dkr.ecr.us-east-1.amazonaws.com/broken:1"',
    );
    const status = await client.get('broken');
    expect(status.state).toBe('Failed');
    expect(status.stateReason).toContain(
      'Delete the deployment to remove its endpoint, endpoint config and models',
    );
    await client.delete('broken');
    expect(emulator.state.endpoints.has('broken')).toBe(false);
    expect(owned(emulator.state.models.keys(), 'broken')).toEqual([]);

    emulator.faults.add({
      kind: 'failEndpoint',
      endpointName: 'unhealthy',
      reason: 'The primary container did not pass the ping health check.',
    });
    await expect(client.deploy({ name: 'unhealthy', model: { uri: modelUri } })).rejects.toThrow(
      /did not pass the ping health check/,
    );
    await client.delete('unhealthy');
  });
});

describe('retries', () => {
  /**
   * Every operation the adapter sends through a backend call the client retries: deploy, update,
   * autoscale, predict, metrics, alerts, training and delete. (Pages of list, jobs and logs are not
   * retried: see the next test.)
   */
  const operations = [
    'CreateModel',
    'CreateEndpointConfig',
    'DescribeEndpointConfig',
    'CreateEndpoint',
    'DescribeEndpoint',
    'ListTags',
    'AddTags',
    'UpdateEndpoint',
    'UpdateEndpointWeightsAndCapacities',
    'DeleteEndpoint',
    'ListEndpointConfigs',
    'ListModels',
    'DeleteEndpointConfig',
    'DeleteModel',
    'RegisterScalableTarget',
    'PutScalingPolicy',
    'DescribeScalableTargets',
    'DescribeScalingPolicies',
    'DeregisterScalableTarget',
    'PutMetricAlarm',
    'DescribeAlarms',
    'DeleteAlarms',
    'GetMetricData',
    'InvokeEndpoint',
    'CreateTrainingJob',
    'DescribeTrainingJob',
    'StopTrainingJob',
  ];

  it('throttling on every operation is retried by the client, the one retry layer, and succeeds', async () => {
    const { emulator } = harness;
    // The SDK makes one attempt; the client retries. One backend call may meet several throttled
    // operations in a row, so the budget here is larger than the default 5.
    const client = createMlscale({
      backend: sagemaker(harness.settings),
      retry: { maxAttempts: 60, baseDelayMs: 1, maxDelayMs: 2 },
      polling: { minDelayMs: 5, maxDelayMs: 20 },
    });
    for (const operation of operations) emulator.faults.add({ kind: 'throttle', operation, count: 2 });
    const spec = { name: 'throttled', model: { uri: modelUri } };
    await client.deploy(spec);
    await client.update({ ...spec, replicas: 2 });
    await client.update({
      ...spec,
      model: { uri: 's3://mlscale-models/v2/model.tar.gz' },
      rollout: { steps: [50, 100], stepSeconds: 0 },
    });
    await client.autoscale('throttled', {
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'cpuUtilization', value: 60 },
    });
    await client.predict('throttled', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    await client.metrics({ target: { deployment: 'throttled' }, names: ['invocations'] });
    for await (const _ of client.logs({ deployment: 'throttled' }, { limit: 1 })) break;
    await client.alerts.put({
      name: 'throttled-errors',
      target: { deployment: 'throttled' },
      metric: 'errors5xx',
      comparator: '>',
      threshold: 0.1,
    });
    await client.alerts.delete('throttled-errors');
    for await (const _ of client.list()) break;
    await client.train(
      {
        name: 'throttled-job',
        image: 'training:1',
        output: { uri: 's3://out/' },
        hyperparameters: { epochs: 5 },
      },
      { wait: false },
    );
    await client.job('throttled-job');
    for await (const _ of client.jobs()) break;
    await client.stopJob('throttled-job');
    await client.delete('throttled');
    const throttled = new Map<string, number>();
    for (const request of emulator.requests) {
      if (request.error === 'ThrottlingException' || request.error === 'Throttling') {
        throttled.set(request.operation, (throttled.get(request.operation) ?? 0) + 1);
      }
    }
    for (const operation of operations) expect([operation, throttled.get(operation)]).toEqual([operation, 2]);
    expect(emulator.faults.list().filter((fault) => fault.kind === 'throttle')).toEqual([]);
  });

  it('a throttled first page of a list is retried by the client, once per throttled answer, not by the SDK or adapter', async () => {
    const { client, emulator } = harness;
    for (const [operation, iterate] of [
      ['ListEndpoints', () => client.list()],
      ['ListTrainingJobs', () => client.jobs()],
      ['FilterLogEvents', () => client.logs({ deployment: 'never-was' })],
    ] as const) {
      emulator.resetCalls();
      emulator.faults.add({ kind: 'throttle', operation, count: 1 });
      const outcome = await (async () => {
        for await (const _ of iterate()) break;
        return 'listed';
      })().catch((caught: unknown) => caught);
      expect([operation, outcome]).toEqual([operation, 'listed']);
      // Two requests: the throttled one and the client's one retry (the SDK and the adapter add none).
      expect(emulator.calls().filter((call) => call.operation === operation)).toHaveLength(2);
    }
    // Without the client's retries, the throttled page ends the listing with a retryable Throttled.
    const noRetry = createMlscale({ backend: sagemaker(harness.settings), retry: false });
    emulator.faults.add({ kind: 'throttle', operation: 'ListEndpoints', count: 1 });
    const error = await (async () => {
      for await (const _ of noRetry.list()) break;
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'Throttled', retryable: true });
  });

  it('a 5xx is retried by the client and its error maps to BackendFailure with the request id', async () => {
    const { client, emulator } = harness;
    emulator.faults.add({ kind: 'error', operation: 'DescribeEndpoint', count: 1, status: 503 });
    await expect(client.delete('never-was')).resolves.toEqual({ deleted: false });
    const noRetry = createMlscale({ backend: sagemaker(harness.settings), retry: false });
    emulator.faults.add({ kind: 'error', operation: 'DescribeEndpoint', count: 1, status: 500 });
    const error = await noRetry.get('never-was').catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'BackendFailure',
      retryable: true,
      provider: 'aws',
      statusCode: 500,
    });
    expect((error as Error).message).toMatch(
      /SageMaker DescribeEndpoint failed: An internal error occurred.*InternalFailure, HTTP 500, request id/,
    );
  });

  it('AccessDenied becomes Unauthorized without credentials in the message', async () => {
    const { emulator } = harness;
    const client = createMlscale({ backend: sagemaker(harness.settings), retry: false });
    emulator.faults.add({
      kind: 'error',
      operation: 'ListEndpoints',
      count: 1,
      status: 400,
      type: 'AccessDeniedException',
      message: `User arn:aws:sts::123456789012:assumed-role/dev is not authorized (X-Amz-Credential=${fakeCredentials.accessKeyId}/20260101/us-east-1&X-Amz-Signature=abcdef0123)`,
    });
    const error = await (async () => {
      for await (const _ of client.list()) break;
    })().catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unauthorized')).toBe(true);
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    expect(text).not.toContain(fakeCredentials.accessKeyId);
    expect(text).not.toContain(fakeCredentials.secretAccessKey);
    expect(text).not.toContain('abcdef0123');
  });
});

describe('secrets', () => {
  it('never reach errors, logs, events or audit entries, even when AWS quotes them', async () => {
    const { emulator } = harness;
    const audit = memoryAuditSink();
    const lines: string[] = [];
    const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
    const client = createMlscale({
      backend: sagemaker(harness.settings),
      audit,
      logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
      onEvent: (event) => lines.push(JSON.stringify(event)),
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    const signature = 'f'.repeat(64);
    emulator.faults.add({
      kind: 'error',
      operation: 'CreateModel',
      count: 1,
      status: 403,
      type: 'InvalidSignatureException',
      message: `The request signature we calculated does not match. Credential=${fakeCredentials.accessKeyId}/20260101/us-east-1/sagemaker/aws4_request, Signature=${signature}`,
    });
    const error = await client
      .deploy({ name: 'leaky', model: { uri: modelUri } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unauthorized')).toBe(true);
    const everything = [
      (error as Error).message,
      JSON.stringify(error),
      inspect(error, { depth: 8 }),
      ...lines,
      JSON.stringify(audit.entries),
    ].join('\n');
    expect(audit.entries).toHaveLength(1);
    expect(everything).toContain('[redacted]');
    for (const secret of [fakeCredentials.accessKeyId, fakeCredentials.secretAccessKey, signature]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('waiting', () => {
  it('a wait that runs out of time throws Timeout; an aborted one throws Aborted; the deployment carries on and converges', async () => {
    const slow = await startHarness({ delays: { endpointCreateMs: 60_000 } });
    try {
      const spec = { name: 'slow', model: { uri: modelUri } };
      const timedOut = await slow.client.deploy(spec, { timeoutMs: 100 }).catch((caught: unknown) => caught);
      expect(MlscaleError.hasCode(timedOut, 'Timeout')).toBe(true);
      expect((timedOut as Error).message).toContain('last seen: Creating');

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const aborted = await slow.client
        .deploy(spec, { signal: controller.signal })
        .catch((caught: unknown) => caught);
      expect(MlscaleError.hasCode(aborted, 'Aborted')).toBe(true);

      // A deploy with autoscaling (registered once InService) aborts the same way.
      const inner = new AbortController();
      setTimeout(() => inner.abort(), 50);
      const withPolicy = await slow.client
        .deploy(
          {
            name: 'slow-auto',
            model: { uri: modelUri },
            autoscaling: {
              minReplicas: 1,
              maxReplicas: 2,
              target: { metric: 'requestsPerSecond', value: 1 },
            },
          },
          { signal: inner.signal },
        )
        .catch((caught: unknown) => caught);
      expect(MlscaleError.hasCode(withPolicy, 'Aborted')).toBe(true);

      expect((await slow.client.get('slow')).state).toBe('Creating');
      // A fresh deploy of the same spec finds the same endpoint instead of failing.
      const again = await slow.client.deploy(spec, { wait: false });
      expect(again.state).toBe('Creating');
      expect(
        slow.emulator
          .requestsFor('CreateEndpoint')
          .filter((request) => request.input.EndpointName === 'slow'),
      ).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });
});
