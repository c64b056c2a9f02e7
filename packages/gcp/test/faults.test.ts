import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployment } from '../src/adapter/deployment-store.js';
import { startVertexTestSetup, type VertexTestSetup } from './vertex-test-setup.js';

describe('vertex() under injected faults', () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;

  beforeAll(async () => {
    setup = await startVertexTestSetup();
    // No client-level retry: the adapter makes one request per call, so any retry seen is the client's.
    client = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: false,
    });
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  const count = (method: string, since = 0) =>
    setup.emulator.requests.slice(since).filter((request) => request.method === method).length;
  const endpointsNamed = (name: string) =>
    [...setup.emulator.state.endpoints.values()].filter(
      (endpoint) => endpoint.labels['mlscale-deployment'] === name,
    );
  const modelsOf = (name: string) =>
    [...setup.emulator.state.models.values()].filter(
      (versions) => versions[0]!.labels['mlscale-deployment'] === name,
    );

  it('leaves RESOURCE_EXHAUSTED to the client: one request per attempt, retried only by its policy', async () => {
    setup.emulator.setFaults({ resourceExhausted: { calls: 1, methods: ['CreateEndpoint'] } });
    let before = setup.emulator.requests.length;
    const error = await client
      .deploy({ name: 'throttled', model: { uri: setup.modelPath } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Throttled')).toBe(true);
    expect((error as MlscaleError).retryable).toBe(true);
    expect((error as MlscaleError).statusCode).toBe(429);
    expect(count('EndpointService.CreateEndpoint', before)).toBe(1);

    const retrying = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 },
    });
    before = setup.emulator.requests.length;
    setup.emulator.setFaults({ resourceExhausted: { calls: 3, methods: ['DeployModel', 'CreateEndpoint'] } });
    const status = await retrying.deploy({ name: 'throttled', model: { uri: setup.modelPath } });
    expect(status.state).toBe('InService');
    // Three refusals, then the calls that went through: each attempt is one request.
    expect(
      count('EndpointService.CreateEndpoint', before) + count('EndpointService.DeployModel', before),
    ).toBe(5);
  });

  it('gives up with Throttled when the quota stays exhausted', async () => {
    setup.emulator.setFaults({ resourceExhausted: { calls: 50, methods: ['GetEndpoint'] } });
    const error = await client.get('throttled').catch((caught: unknown) => caught);
    setup.emulator.setFaults({});
    expect(MlscaleError.hasCode(error, 'Throttled')).toBe(true);
    expect((error as MlscaleError).provider).toBe('gcp');
    expect((error as Error).message).toMatch(/GetEndpoint failed: Quota exceeded/);
  });

  it('surfaces the error of a failed operation, then converges when deployed again', async () => {
    setup.emulator.setFaults({
      failOperations: {
        methods: ['DeployModel'],
        message: 'The machine type g2-standard-4 is out of capacity in us-central1-a.',
      },
    });
    const spec = { name: 'flaky', model: { uri: setup.modelPath } };
    const error = await client.deploy(spec).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as Error).message).toContain(
      'The machine type g2-standard-4 is out of capacity in us-central1-a.',
    );
    const failed = await client.get('flaky');
    expect(failed.state).toBe('Failed');
    expect(failed.stateReason).toContain('out of capacity');

    const uploadsBefore = count('ModelService.UploadModel');
    const objectsBefore = setup.emulator.storageObjects.size;
    const retried = await client.deploy(spec);
    expect(retried.state).toBe('InService');
    // The endpoint, the model and the uploaded artifact were reused: nothing was created twice.
    expect(endpointsNamed('flaky')).toHaveLength(1);
    expect(modelsOf('flaky')).toHaveLength(1);
    expect(count('ModelService.UploadModel')).toBe(uploadsBefore);
    expect(setup.emulator.storageObjects.size).toBe(objectsBefore);
  });

  it('masks the secret values a failed operation quotes before it records the refusal', async () => {
    const secret = 'hunter2-quoted-9d8c7b';
    setup.emulator.setFaults({
      failOperations: {
        methods: ['DeployModel'],
        message: `The serving container exited at start: MODEL_PASSWORD=${secret} was rejected.`,
      },
    });
    const spec = {
      name: 'quoted',
      model: { uri: setup.modelPath },
      environment: { MODEL_PASSWORD: secret },
    };
    const error = await client.deploy(spec).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain('was rejected');
    const [endpoint] = endpointsNamed('quoted');
    const failure = readDeployment(endpoint!)?.record.failure;
    expect(failure?.message).toContain('MODEL_PASSWORD=[redacted] was rejected');
    expect(endpoint!.description).not.toContain(secret);
    // Another process reads the reason as it was recorded.
    const other = createMlscale({ backend: setup.newBackend(), retry: false });
    const status = await other.get('quoted');
    expect(status.stateReason).toContain('was rejected');
    expect(JSON.stringify(status)).not.toContain(secret);
    await client.delete('quoted');
  });

  it('converges a deploy interrupted by its process going away, without deploying its model twice', async () => {
    setup.emulator.setDelays({ operationMs: 20, deployExtraMs: 400 });
    const first = setup.newBackend();
    const firstClient = createMlscale({ backend: first, retry: false });
    const spec = { name: 'interrupted', model: { uri: setup.modelPath }, replicas: 2 };
    const started = await firstClient.deploy(spec, { wait: false });
    expect(started.state).toBe('Creating');
    // The first process takes steps until its DeployModel is under way, then goes away.
    const deploys = () =>
      setup.emulator.requests.filter(
        (request) =>
          request.method === 'EndpointService.DeployModel' &&
          String(request.request.endpoint).endsWith('/mlscale-interrupted'),
      ).length;
    for (let attempt = 0; attempt < 300 && deploys() === 0; attempt++) {
      await firstClient.reconcile('interrupted', { wait: false });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await first.close?.();
    const second = createMlscale({
      backend: setup.newBackend(),
      polling: { minDelayMs: 5, maxDelayMs: 50 },
    });
    const converged = await second.deploy(spec);
    setup.emulator.setDelays({});
    expect(converged.state).toBe('InService');
    expect(converged.replicas.ready).toBe(2);
    expect(endpointsNamed('interrupted')).toHaveLength(1);
    expect(modelsOf('interrupted')).toHaveLength(1);
    // The second process waited for the first one's DeployModel instead of deploying the model again.
    expect(deploys()).toBe(1);
    expect(endpointsNamed('interrupted')[0]!.deployedModels).toHaveLength(1);
    expect(
      Object.values(endpointsNamed('interrupted')[0]!.trafficSplit).reduce((sum, value) => sum + value, 0),
    ).toBe(100);
  });

  it('stops waiting when the caller aborts, and reports Aborted', async () => {
    setup.emulator.setDelays({ operationMs: 50, deployExtraMs: 5_000 });
    const controller = new AbortController();
    const deploying = client.deploy(
      { name: 'aborted', model: { uri: setup.modelPath } },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 300);
    const error = await deploying.catch((caught: unknown) => caught);
    setup.emulator.setDelays({});
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
  });

  it('rejects a deploy whose name is taken by a different spec with AlreadyExists', async () => {
    await expect(
      client.deploy({ name: 'throttled', model: { uri: setup.modelPath }, replicas: 3 }),
    ).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'AlreadyExists'));
  });

  it('deletes everything it created: deployed models, the endpoint and its uploaded models', async () => {
    expect(await client.delete('flaky')).toEqual({ deleted: true });
    expect(endpointsNamed('flaky')).toHaveLength(0);
    expect(modelsOf('flaky')).toHaveLength(0);
    expect(await client.delete('flaky')).toEqual({ deleted: false });
  });
});
