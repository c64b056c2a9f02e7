import { createMlscale, MlscaleError } from '@mlscale/core';
import { recordFromTags } from '@mlscale/core/provider-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedBackend, startEmulatedBackend, workspaceRoute } from './emulated-backend.js';
import { bodyOf, type WireBody } from './wire-body.js';

let backend: EmulatedBackend;
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [2, 3] }] };

beforeAll(async () => {
  backend = await startEmulatedBackend({ settings: { location: 'westeurope' } });
});

afterAll(() => backend.close());

describe('deploy', () => {
  it('sends the endpoint, environment, deployment, record and traffic requests Azure ML expects', async () => {
    const { emulator, client, registerVersion, requestsFrom } = backend;
    await registerVersion('iris');
    const start = emulator.requests.length;
    const status = await client.deploy({
      name: 'iris-api',
      model: { name: 'iris', version: 1 },
      replicas: 2,
      instance: { type: 'Standard_F4s_v2' },
      environment: { LOG_LEVEL: 'debug' },
      tags: { team: 'vision' },
      providerOptions: { azure: { requestTimeoutMs: 5000, maxConcurrentRequestsPerInstance: 4 } },
    });
    expect(status.state).toBe('InService');
    expect(status.replicas).toEqual({ desired: 2, ready: 2 });
    expect(status.traffic).toEqual([{ version: 'iris-v1', weight: 100 }]);
    expect(status.endpoint?.url).toBe('https://iris-api.eastus.inference.ml.azure.com/score');

    const writes = requestsFrom(start).filter((item) => item.method !== 'GET');
    const environmentVersion = writes[1]?.path.split('/').at(-1);
    expect(writes.map((item) => `${item.method} ${workspaceRoute(item.path)}`)).toEqual([
      'PUT /onlineEndpoints/iris-api',
      `PUT /environments/mlscale-server-iris-api/versions/${environmentVersion}`,
      'PUT /onlineEndpoints/iris-api/deployments/iris-v1',
      // The record says the change's deployments are in Azure, then traffic moves, then it says converged.
      'PATCH /onlineEndpoints/iris-api',
      'PUT /onlineEndpoints/iris-api',
      'PATCH /onlineEndpoints/iris-api',
    ]);
    for (const item of emulator.requests.slice(start)) {
      expect(item.apiVersion).toBe(/autoscalesettings/i.test(item.path) ? '2015-04-01' : '2022-10-01');
    }
    const [createEndpoint, environment, deployment, started, routeTraffic, converged] = writes.map(
      (item) => bodyOf(item) as WireBody,
    );
    expect(createEndpoint).toMatchObject({
      location: 'westeurope',
      kind: 'Managed',
      tags: { team: 'vision', 'mlscale-managed-by': 'mlscale', 'mlscale-record-0': expect.any(String) },
      properties: {
        authMode: 'Key',
        publicNetworkAccess: 'Enabled',
        traffic: {},
        // The one immutable fact, written once; the spec lives in the tags, never in properties.
        properties: { 'mlscale.created-by': 'mlscale' },
      },
    });
    const recorded = recordFromTags(createEndpoint.tags, 'mlscale-record-');
    expect(recorded?.desiredHash).toBe(status.specHash);
    expect(recorded?.desired.environment).toEqual({ LOG_LEVEL: 'debug' });
    expect(environment.properties).toMatchObject({
      image: 'ghcr.io/mlscale/server:0.1.0',
      inferenceConfig: {
        livenessRoute: { path: '/v2/health/live', port: 8080 },
        readinessRoute: { path: '/v2/health/ready', port: 8080 },
        scoringRoute: { path: '/v2/models/iris/infer', port: 8080 },
      },
      tags: { 'mlscale-managed-by': 'mlscale', 'mlscale-endpoint': 'iris-api' },
    });
    expect(deployment).toMatchObject({
      sku: { name: 'Default', capacity: 2 },
      tags: {
        'mlscale-managed-by': 'mlscale',
        'mlscale-model': 'iris:1',
        'mlscale-model-ref': expect.any(String),
      },
      properties: {
        endpointComputeType: 'Managed',
        instanceType: 'Standard_F4s_v2',
        model: expect.stringMatching(/\/workspaces\/mlscale-workspace\/models\/iris\/versions\/1$/),
        environmentId: expect.stringContaining(
          `/environments/mlscale-server-iris-api/versions/${environmentVersion}`,
        ),
        environmentVariables: { LOG_LEVEL: 'debug', MLSCALE_MODEL_NAME: 'iris', MLSCALE_MODEL_VERSION: '1' },
        requestSettings: { requestTimeout: 'PT5S', maxConcurrentRequestsPerInstance: 4 },
        livenessProbe: { period: 'PT10S' },
        readinessProbe: { period: 'PT10S' },
      },
    });
    // Record writes are tag PATCHes alone: the whole tag set, the user's tags kept.
    for (const patch of [started, converged]) {
      expect(Object.keys(patch)).toEqual(['tags']);
      expect(patch.tags).toMatchObject({ team: 'vision', 'mlscale-managed-by': 'mlscale' });
    }
    expect(recordFromTags(started.tags, 'mlscale-record-')?.started).toBe(status.specHash);
    expect(recordFromTags(converged.tags, 'mlscale-record-')?.servingHash).toBe(status.specHash);
    // The traffic PUT carries the endpoint's tags and properties as they are.
    expect(routeTraffic.properties.traffic).toEqual({ 'iris-v1': 100 });
    expect(routeTraffic.properties.properties).toEqual({ 'mlscale.created-by': 'mlscale' });
    expect(routeTraffic.tags).toEqual(started.tags);

    const prediction = await client.predict('iris-api', request);
    expect(prediction.outputs[0]).toEqual({ name: 'x_row_sum', datatype: 'FP64', shape: [1, 1], data: [5] });
    expect(prediction.modelName).toBe('iris');
    expect(prediction.modelVersion).toBe('1');
  });

  it('with wait: false records the spec and starts only the endpoint PUT; get only reads', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('quick');
    emulator.inspection.resetRequests();
    const started = await client.deploy({ name: 'quick-api', model: { name: 'quick' } }, { wait: false });
    expect(started.state).toBe('Creating');
    const mutating = () =>
      emulator.inspection
        .requests()
        .filter((item) => emulator.inspection.isMutating(item.operation))
        .map((item) => item.operation);
    expect(mutating()).toEqual(['PUT onlineEndpoints']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const later = await client.get('quick-api');
    expect(later.state).toBe('Creating');
    expect(mutating()).toEqual(['PUT onlineEndpoints']);
    expect((await client.reconcile('quick-api'))?.state).toBe('InService');
  });

  it('scores with an AML token when the endpoint uses AMLToken auth, on a GPU instance for an accelerator', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('tokened');
    const status = await client.deploy({
      name: 'tokened-api',
      model: { name: 'tokened' },
      instance: { accelerator: { type: 'gpu' } },
      providerOptions: { azure: { authMode: 'amlToken' } },
    });
    expect(status.details).toMatchObject({
      authMode: 'AMLToken',
      deployments: [{ instanceType: 'Standard_NC4as_T4_v3' }],
    });
    // The record keeps `latest` as asked; the deployment serves the version registered when it was made.
    expect(status.spec.model).toEqual({ name: 'tokened', version: 'latest' });
    expect(status.traffic).toEqual([{ version: 'tokened-v1', weight: 100 }]);
    const start = emulator.requests.length;
    const answer = await client.predict('tokened-api', request);
    expect(answer.outputs[0]?.data).toEqual([5]);
    expect(
      emulator.requests.slice(start).some((item) => item.path.endsWith('/onlineEndpoints/tokened-api/token')),
    ).toBe(true);
  });

  it('gives up waiting at timeoutMs with Timeout while the operation goes on in Azure', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('sluggish');
    emulator.inject({ kind: 'slow', extraMs: 60_000 });
    const error = await client
      .deploy({ name: 'sluggish-api', model: { name: 'sluggish' } }, { timeoutMs: 300 })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Timeout')).toBe(true);
    expect((error as MlscaleError).message).toContain('sluggish-api');
    expect((await client.get('sluggish-api')).state).toBe('Creating');
  });

  it('maps network.private to public network access Disabled and AAD token auth', async () => {
    const { client, registerVersion } = backend;
    await registerVersion('private-model');
    const status = await client.deploy({
      name: 'private-api',
      model: { name: 'private-model' },
      network: { private: true },
      providerOptions: { azure: { authMode: 'aadToken' } },
    });
    expect(status.details).toMatchObject({ authMode: 'AADToken', publicNetworkAccess: 'Disabled' });
    const error = await client.predict('private-api', request).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unauthorized')).toBe(true);
  });

  it('rejects Azure-specific mistakes with the field path before touching Azure', async () => {
    const { emulator, client } = backend;
    const start = emulator.requests.length;
    const bad = await client
      .deploy({
        name: 'bad-options',
        model: { name: 'iris' },
        providerOptions: { azure: { authMode: 'password' } },
      })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(bad, 'InvalidSpec')).toBe(true);
    expect((bad as MlscaleError).issues.map((issue) => issue.path)).toContain('azure.authMode');
    const mirror = await client
      .deploy({
        name: 'bad-mirror',
        model: { name: 'iris' },
        providerOptions: { azure: { mirrorTraffic: { x: 10 } } },
      })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(mirror, 'Unsupported')).toBe(true);
    const reserved = await client
      .deploy({ name: 'bad-tags', model: { name: 'iris' }, tags: { 'mlscale-record-0': 'mine' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(reserved, 'InvalidSpec')).toBe(true);
    expect(emulator.requests.length).toBe(start);
  });

  it('surfaces a failed provisioning with the container log, records it, and reports Failed', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('crashy');
    emulator.inject({
      kind: 'failProvisioning',
      deployment: 'crashy-v1',
      code: 'ResourceNotReady',
      message: 'User container has crashed or terminated: exit code 137',
    });
    const error = await client
      .deploy({ name: 'crashy-api', model: { name: 'crashy' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as MlscaleError).message).toContain(
      'User container has crashed or terminated: exit code 137',
    );
    expect((error as MlscaleError).retryable).toBe(false);
    // The reason is in the record (the endpoint's tags): another process reads it too.
    const { azureml } = await import('../src/index.js');
    const other = createMlscale({ backend: azureml(emulator.settings) });
    for (const reader of [client, other]) {
      const status = await reader.get('crashy-api');
      expect(status.state).toBe('Failed');
      expect(status.stateReason).toContain('exit code 137');
    }
    const logs: string[] = [];
    for await (const entry of client.logs({ deployment: 'crashy-api' }))
      logs.push(`${entry.source}: ${entry.message}`);
    expect(logs).toContain('server: ERROR User container has crashed or terminated: exit code 137');
  });

  it('retries 429 answers that carry Retry-After and still converges', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('throttled');
    emulator.inject({
      kind: 'throttle',
      method: 'PUT',
      path: '/deployments/throttled-v1',
      retryAfterSeconds: 1,
      times: 1,
    });
    const start = emulator.requests.length;
    const status = await client.deploy({ name: 'throttled-api', model: { name: 'throttled' } });
    expect(status.state).toBe('InService');
    const puts = emulator.requests
      .slice(start)
      .filter((item) => item.method === 'PUT' && item.path.endsWith('/deployments/throttled-v1'));
    expect(puts.length).toBe(2);
  });

  it('converges an interrupted deploy without duplicating resources', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('resumed');
    const controller = new AbortController();
    const spec = { name: 'resumed-api', model: { name: 'resumed' } };
    const startedAt = emulator.requests.length;
    const stop = emulator.inspection.onRequest((item) => {
      // Stop the process right after Azure accepted the deployment PUT.
      if (item.operation === 'PUT onlineEndpoints/deployments') controller.abort();
    });
    const error = await client.deploy(spec, { signal: controller.signal }).catch((caught: unknown) => caught);
    stop();
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
    const halfway = await client.get('resumed-api');
    expect(halfway.state).not.toBe('InService');

    const status = await client.deploy(spec);
    expect(status.state).toBe('InService');
    expect(status.traffic).toEqual([{ version: 'resumed-v1', weight: 100 }]);
    const puts = emulator.requests
      .slice(startedAt)
      .filter((item) => item.method === 'PUT' && item.path.includes('/deployments/'));
    expect(puts.length).toBe(1);
    const again = await client.deploy(spec);
    expect(again.specHash).toBe(status.specHash);
    const conflicting = await client.deploy({ ...spec, replicas: 3 }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(conflicting, 'AlreadyExists')).toBe(true);
  });
});

describe('endpoints made outside mlscale', () => {
  it('leaves them out of get and list, and refuses to take them over or delete them', async () => {
    const { emulator, client } = backend;
    const { azureml } = await import('../src/index.js');
    const clients = await azureml(emulator.settings).clients();
    const { resourceGroup, workspace } = emulator.settings;
    await clients.machineLearning.onlineEndpoints.beginCreateOrUpdateAndWait(
      resourceGroup,
      workspace,
      'foreign-api',
      { location: 'eastus', properties: { authMode: 'AMLToken' } },
      { updateIntervalInMs: 20 },
    );
    const missing = await client.get('foreign-api').catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(missing, 'NotFound')).toBe(true);
    const names: string[] = [];
    for await (const item of client.list()) names.push(item.name);
    expect(names).not.toContain('foreign-api');
    const error = await client
      .deploy({ name: 'foreign-api', model: { name: 'iris', version: 1 } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'AlreadyExists')).toBe(true);
    expect((error as MlscaleError).message).toContain('not made by mlscale');
    const refused = await client.delete('foreign-api').catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(refused, 'Conflict')).toBe(true);
    expect(emulator.inspection.inventory('foreign-api')).toEqual(['onlineEndpoints/foreign-api']);
  });
});
