import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AzureMlEmulator,
  rowSumPredictor,
  ScoringError,
  startAzureMlEmulator,
} from '../src/emulator/index.js';
import { azureml } from '../src/index.js';
import { bodyOf, type WireBody } from './wire-body.js';

let emulator: AzureMlEmulator;
let client: MlscaleClient;
/** Deployments whose predictions fail, to drive the rollout's error-rate rollback. */
const failingDeployments = new Set<string>();
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [2, 3] }] };

async function registerVersion(name: string): Promise<number> {
  const version = await client.models.register({
    name,
    path: `azureml://datastores/workspaceblobstore/paths/${name}/model.onnx`,
  });
  return version.version;
}

beforeAll(async () => {
  emulator = await startAzureMlEmulator({
    predictor: (body, context) => {
      if (failingDeployments.has(context.deployment)) throw new ScoringError(500, 'model crashed');
      return rowSumPredictor(body, context);
    },
  });
  client = createMlscale({
    backend: azureml({ ...emulator.settings, location: 'westeurope' }),
    polling: { minDelayMs: 20, maxDelayMs: 200 },
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
});

afterAll(async () => {
  await emulator.close();
});

const requestsFrom = (start: number) =>
  emulator.requests.slice(start).filter((item) => !/mfeOperation/.test(item.path));

describe('deploy', () => {
  it('sends the endpoint, environment, deployment and traffic requests Azure ML expects', async () => {
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
    expect(writes.map((item) => `${item.method} ${item.path.replace(/^.*\/workspaces\/[^/]+/, '')}`)).toEqual(
      [
        'PUT /onlineEndpoints/iris-api',
        `PUT /environments/mlscale-server/versions/${writes[1]?.path.split('/').at(-1)}`,
        'PUT /onlineEndpoints/iris-api/deployments/iris-v1',
        'PUT /onlineEndpoints/iris-api',
      ],
    );
    for (const item of emulator.requests.slice(start)) {
      expect(item.apiVersion).toBe(/autoscalesettings/i.test(item.path) ? '2015-04-01' : '2022-10-01');
    }
    const [createEndpoint, environment, deployment, routeTraffic] = writes.map((item) => ({
      body: bodyOf(item) as WireBody,
    }));
    expect(createEndpoint?.body).toMatchObject({
      location: 'westeurope',
      kind: 'Managed',
      tags: { team: 'vision', 'mlscale-managed-by': 'mlscale', 'mlscale-spec-hash': status.specHash },
      properties: { authMode: 'Key', publicNetworkAccess: 'Enabled', traffic: {} },
    });
    expect(environment?.body.properties).toMatchObject({
      image: 'ghcr.io/mlscale/server:0.1.0',
      inferenceConfig: {
        livenessRoute: { path: '/v2/health/live', port: 8080 },
        readinessRoute: { path: '/v2/health/ready', port: 8080 },
        scoringRoute: { path: '/v2/models/iris/infer', port: 8080 },
      },
    });
    expect(deployment?.body).toMatchObject({
      sku: { name: 'Default', capacity: 2 },
      properties: {
        endpointComputeType: 'Managed',
        instanceType: 'Standard_F4s_v2',
        model: expect.stringMatching(/\/workspaces\/mlscale-workspace\/models\/iris\/versions\/1$/),
        environmentId: expect.stringContaining('/environments/mlscale-server/versions/'),
        environmentVariables: { LOG_LEVEL: 'debug', MLSCALE_MODEL_NAME: 'iris', MLSCALE_MODEL_VERSION: '1' },
        requestSettings: { requestTimeout: 'PT5S', maxConcurrentRequestsPerInstance: 4 },
        livenessProbe: { period: 'PT10S' },
        readinessProbe: { period: 'PT10S' },
      },
    });
    expect(routeTraffic?.body.properties.traffic).toEqual({ 'iris-v1': 100 });

    const prediction = await client.predict('iris-api', request);
    expect(prediction.outputs[0]).toEqual({ name: 'x_row_sum', datatype: 'FP64', shape: [1, 1], data: [5] });
    expect(prediction.modelName).toBe('iris');
    expect(prediction.modelVersion).toBe('1');
  });

  it('scores with an AML token when the endpoint uses AMLToken auth, on a GPU instance for an accelerator', async () => {
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
    const start = emulator.requests.length;
    const answer = await client.predict('tokened-api', request);
    expect(answer.outputs[0]?.data).toEqual([5]);
    expect(
      emulator.requests.slice(start).some((item) => item.path.endsWith('/onlineEndpoints/tokened-api/token')),
    ).toBe(true);
  });

  it('gives up on a long-running operation after operationTimeoutMs with Timeout', async () => {
    await registerVersion('sluggish');
    const impatient = createMlscale({
      backend: azureml({ ...emulator.settings, operationTimeoutMs: 300 }),
      retry: false,
    });
    emulator.inject({ kind: 'slow', extraMs: 60_000 });
    const error = await impatient
      .deploy({ name: 'sluggish-api', model: { name: 'sluggish' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Timeout')).toBe(true);
    expect((error as MlscaleError).message).toContain("endpoint 'sluggish-api' to be written");
  });

  it('maps network.private to public network access Disabled and AAD token auth', async () => {
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
    expect(emulator.requests.length).toBe(start);
  });

  it('surfaces a failed provisioning with the service code and message, and reports Failed', async () => {
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
    expect((error as MlscaleError).message).toContain('ResourceNotReady');
    expect((error as MlscaleError).message).toContain(
      'User container has crashed or terminated: exit code 137',
    );
    expect((error as MlscaleError).retryable).toBe(false);
    const status = await client.get('crashy-api');
    expect(status.state).toBe('Failed');
    expect(status.stateReason).toContain('exit code 137');
    const logs: string[] = [];
    for await (const entry of client.logs({ deployment: 'crashy-api' }))
      logs.push(`${entry.source}: ${entry.message}`);
    expect(logs).toContain('server: ERROR User container has crashed or terminated: exit code 137');
  });

  it('retries 429 answers that carry Retry-After and still converges', async () => {
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
    await registerVersion('resumed');
    const controller = new AbortController();
    const spec = { name: 'resumed-api', model: { name: 'resumed' } };
    const startedAt = emulator.requests.length;
    const interrupted = client.deploy(spec, { signal: controller.signal });
    // Abort once the deployment PUT has gone out: the endpoint exists, the deployment is provisioning.
    while (
      !emulator.requests
        .slice(startedAt)
        .some((item) => item.method === 'PUT' && item.path.endsWith('/deployments/resumed-v1'))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    controller.abort();
    const error = await interrupted.catch((caught: unknown) => caught);
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
  it('reports them, leaves them out of list, and refuses to take them over', async () => {
    const clients = await azureml(emulator.settings).clients();
    const { resourceGroup, workspace } = emulator.settings;
    await clients.machineLearning.onlineEndpoints.beginCreateOrUpdateAndWait(
      resourceGroup,
      workspace,
      'foreign-api',
      { location: 'eastus', properties: { authMode: 'AMLToken' } },
      { updateIntervalInMs: 20 },
    );
    const status = await client.get('foreign-api');
    expect(status.state).toBe('Creating');
    expect(status.spec.name).toBe('foreign-api');
    const names: string[] = [];
    for await (const item of client.list()) names.push(item.name);
    expect(names).not.toContain('foreign-api');
    const error = await client
      .deploy({ name: 'foreign-api', model: { name: 'iris' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'AlreadyExists')).toBe(true);
    expect((error as MlscaleError).message).toContain('not made by mlscale');
  });
});

describe('update', () => {
  it('rolls a new version out blue/green: traffic shifts by full endpoint PUTs and the old deployment goes', async () => {
    await registerVersion('shop');
    await client.deploy({ name: 'shop-api', model: { name: 'shop', version: 1 } });
    await registerVersion('shop');
    const start = emulator.requests.length;
    const split = await client.update({
      name: 'shop-api',
      model: { name: 'shop', version: 1 },
      traffic: [
        { model: { name: 'shop', version: 1 }, weight: 90 },
        { model: { name: 'shop', version: 2 }, weight: 10 },
      ],
    });
    expect(split.state).toBe('InService');
    expect(split.traffic).toEqual([
      { version: 'shop-v1', weight: 90 },
      { version: 'shop-v2', weight: 10 },
    ]);
    const endpointPuts = requestsFrom(start).filter(
      (item) => item.method === 'PUT' && item.path.endsWith('/onlineEndpoints/shop-api'),
    );
    expect(endpointPuts.map((item) => bodyOf(item).properties.traffic)).toEqual([
      { 'shop-v1': 90, 'shop-v2': 10 },
    ]);
    // The weighted router is exact over 100 requests.
    const served = new Map<string, number>();
    for (let index = 0; index < 20; index++) {
      const answer = await client.predict('shop-api', request);
      served.set(answer.modelVersion ?? '', (served.get(answer.modelVersion ?? '') ?? 0) + 1);
    }
    expect(served.get('2')).toBe(2);

    const switched = await client.update({ name: 'shop-api', model: { name: 'shop', version: 2 } });
    expect(switched.traffic).toEqual([{ version: 'shop-v2', weight: 100 }]);
    expect(
      (switched.details as { deployments: { name: string }[] }).deployments.map((item) => item.name),
    ).toEqual(['shop-v2']);
    const deletes = emulator.requests
      .slice(start)
      .filter((item) => item.method === 'DELETE' && item.path.includes('/deployments/'));
    expect(deletes.map((item) => item.path.split('/').at(-1))).toEqual(['shop-v1']);
  });

  it('steps traffic by the rollout and rolls back to the previous traffic map when errors pass the limit', async () => {
    await registerVersion('risky');
    await client.deploy({ name: 'risky-api', model: { name: 'risky', version: 1 } });
    await registerVersion('risky');
    failingDeployments.add('risky-v2');
    const start = emulator.requests.length;
    let done = false;
    const update = client
      .update({
        name: 'risky-api',
        model: { name: 'risky', version: 2 },
        rollout: { steps: [50, 100], stepSeconds: 2, maxErrorRate: 0.2, minRequests: 2 },
      })
      .catch((caught: unknown) => caught)
      .finally(() => {
        done = true;
      });
    // Real traffic during the step: half of it reaches the failing version.
    const failures: unknown[] = [];
    while (!done) {
      await client.predict('risky-api', request).catch((caught: unknown) => failures.push(caught));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const error = await update;
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as MlscaleError).message).toMatch(/rolled back at 50% traffic/);
    expect(failures.length).toBeGreaterThan(0);
    const endpointPuts = emulator.requests
      .slice(start)
      .filter((item) => item.method === 'PUT' && item.path.endsWith('/onlineEndpoints/risky-api'))
      .map((item) => bodyOf(item).properties.traffic);
    expect(endpointPuts).toEqual([{ 'risky-v1': 50, 'risky-v2': 50 }, { 'risky-v1': 100 }]);
    const status = await client.get('risky-api');
    expect(status.state).toBe('InService');
    expect(status.traffic).toEqual([{ version: 'risky-v1', weight: 100 }]);
    expect(status.spec.model).toEqual({ name: 'risky', version: 1 });
  });

  it('keeps traffic on the old version when the new one fails to provision', async () => {
    await registerVersion('steady');
    await client.deploy({ name: 'steady-api', model: { name: 'steady', version: 1 } });
    await registerVersion('steady');
    emulator.inject({
      kind: 'failProvisioning',
      deployment: 'steady-v2',
      code: 'ImageNotFound',
      message: 'manifest unknown',
    });
    const error = await client
      .update({ name: 'steady-api', model: { name: 'steady', version: 2 } })
      .catch((caught: unknown) => caught);
    expect((error as MlscaleError).message).toContain('ImageNotFound');
    expect((error as MlscaleError).message).toContain('traffic stays on steady-v1 100%');
    const status = await client.get('steady-api');
    expect(status.state).toBe('InService');
    expect(status.traffic).toEqual([{ version: 'steady-v1', weight: 100 }]);
  });
});

describe('scale and autoscale', () => {
  it('scales through a deployment PATCH of sku.capacity', async () => {
    await registerVersion('scaled');
    await client.deploy({ name: 'scaled-api', model: { name: 'scaled' } });
    const start = emulator.requests.length;
    const status = await client.scale('scaled-api', 3);
    expect(status.replicas).toEqual({ desired: 3, ready: 3 });
    const patch = emulator.requests.slice(start).find((item) => item.method === 'PATCH');
    expect(patch?.path).toMatch(/\/onlineEndpoints\/scaled-api\/deployments\/scaled-v1$/);
    expect(patch?.body).toEqual({ sku: { name: 'Default', capacity: 3 } });
    const zero = await client.scale('scaled-api', 0).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(zero, 'InvalidSpec')).toBe(true);
  });

  it('writes an enabled Azure Monitor autoscale setting, reads the policy back and removes it', async () => {
    await registerVersion('elastic');
    await client.deploy({ name: 'elastic-api', model: { name: 'elastic' } });
    const start = emulator.requests.length;
    const policy = {
      minReplicas: 1,
      maxReplicas: 4,
      target: { metric: 'cpuUtilization' as const, value: 50 },
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 300,
      tolerance: 0.2,
    };
    const status = await client.autoscale('elastic-api', policy);
    expect(status.autoscaling).toEqual({ ...policy, scaleToZeroAfterSeconds: 300 });
    const put = emulator.requests.slice(start).find((item) => item.method === 'PUT');
    expect(put?.path).toMatch(
      /\/resourceGroups\/mlscale-emulator\/providers\/Microsoft\.Insights\/autoscalesettings\/mlscale-elastic-api-elastic-v1$/i,
    );
    expect(put?.apiVersion).toBe('2015-04-01');
    const body = bodyOf(put);
    expect(body.properties.enabled).toBe(true);
    expect(body.properties.targetResourceUri).toMatch(
      /\/onlineEndpoints\/elastic-api\/deployments\/elastic-v1$/,
    );
    expect(body.properties.profiles[0].capacity).toEqual({ minimum: '1', maximum: '4', default: '1' });
    expect(
      body.properties.profiles[0].rules.map((rule: WireBody) => [
        rule.metricTrigger.metricName,
        rule.metricTrigger.operator,
        rule.metricTrigger.threshold,
        rule.scaleAction.direction,
        rule.scaleAction.cooldown,
      ]),
    ).toEqual([
      ['CpuUtilizationPercentage', 'GreaterThan', 60, 'Increase', 'PT60S'],
      ['CpuUtilizationPercentage', 'LessThan', 40, 'Decrease', 'PT300S'],
    ]);

    // The emulator's Azure Monitor acts on the enabled setting: traffic drives CPU above 60%.
    for (let index = 0; index < 20; index++) await client.predict('elastic-api', request);
    const scaledOut = await client.get('elastic-api');
    expect(scaledOut.replicas.desired).toBe(2);

    const removed = await client.autoscale('elastic-api', null);
    expect(removed.autoscaling).toBeUndefined();
    expect(
      emulator.requests
        .slice(start)
        .some((item) => item.method === 'DELETE' && /autoscalesettings/i.test(item.path)),
    ).toBe(true);
  });
});

describe('logs and delete', () => {
  it('reads StorageInitializer and InferenceServer logs back as entries', async () => {
    await registerVersion('chatty');
    await client.deploy({ name: 'chatty-api', model: { name: 'chatty' } });
    await client.predict('chatty-api', request);
    const entries = [];
    for await (const entry of client.logs({ deployment: 'chatty-api' })) entries.push(entry);
    expect(entries.map((entry) => entry.source)).toEqual(
      expect.arrayContaining(['storage-initializer', 'server']),
    );
    expect(
      entries.some(
        (entry) =>
          entry.message.startsWith('Downloading model') &&
          entry.message.includes('/models/chatty/versions/1'),
      ),
    ).toBe(true);
    expect(entries.some((entry) => /^POST \/score 200 /.test(entry.message))).toBe(true);
    for (const entry of entries) expect(entry.time.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const filtered = [];
    for await (const entry of client.logs({ deployment: 'chatty-api' }, { filter: 'POST /score', limit: 1 }))
      filtered.push(entry);
    expect(filtered.length).toBe(1);
    await expect(async () => {
      for await (const _ of client.logs({ job: 'no-such-job' })) break;
    }).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'Unsupported'));
  });

  it('follows logs as new lines arrive until the signal aborts', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const entry of client.logs(
        { deployment: 'chatty-api' },
        { follow: true, filter: 'POST /score', signal: controller.signal },
      )) {
        seen.push(entry.message);
        if (seen.length === 2) controller.abort();
      }
    })();
    // The first round finds the earlier request's line; this one arrives while following.
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await client.predict('chatty-api', request);
    await following;
    expect(seen.length).toBe(2);
  });

  it('deletes the endpoint with its deployments and autoscale settings', async () => {
    await registerVersion('brief');
    await client.deploy({
      name: 'brief-api',
      model: { name: 'brief' },
      autoscaling: { minReplicas: 1, maxReplicas: 2, target: { metric: 'requestsPerSecond', value: 5 } },
    });
    expect((await client.get('brief-api')).autoscaling?.target).toEqual({
      metric: 'requestsPerSecond',
      value: 5,
    });
    expect(await client.delete('brief-api')).toEqual({ deleted: true });
    const listed = [];
    for await (const status of client.list()) listed.push(status.name);
    expect(listed).not.toContain('brief-api');
    expect(
      emulator.requests.some(
        (item) =>
          item.method === 'DELETE' && /autoscalesettings\/mlscale-brief-api-brief-v1$/i.test(item.path),
      ),
    ).toBe(true);
  });
});
