import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator } from '../src/emulator/index.js';
import type { WireBody } from './wire-body.js';

let emulator: AzureMlEmulator;
let workspacePath = '';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: WireBody;
}

/** One raw HTTPS request, trusting only the emulator's certificate (through its agent). */
function send(
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; trust?: boolean; raw?: string } = {},
): Promise<Answer> {
  const url = new URL(path, emulator.url);
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      url,
      {
        method,
        ...(options.trust === false ? {} : { agent: emulator.agent }),
        headers: {
          ...(options.token === null ? {} : { authorization: `Bearer ${options.token ?? 'test-token'}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (incoming) => {
        let text = '';
        incoming.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

const api = '?api-version=2022-10-01';

async function pollUntil(url: string, done: (answer: Answer) => boolean): Promise<Answer> {
  const { pathname, search } = new URL(url);
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await send('GET', `${pathname}${search}`);
    if (done(answer)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`operation at ${url} did not finish`);
}

beforeAll(async () => {
  emulator = await startAzureMlEmulator({ location: 'northeurope' });
  const { subscriptionId, resourceGroup, workspace } = emulator.settings;
  workspacePath = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}`;
});

afterAll(async () => {
  await emulator.close();
});

describe('ARM wire behaviour', () => {
  it('serves HTTPS with its own certificate, which is not trusted by default', async () => {
    expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(send('GET', `${workspacePath}${api}`, undefined, { trust: false })).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
    const workspace = await send('GET', `${workspacePath}${api}`);
    expect(workspace.status).toBe(200);
    expect(workspace.body).toMatchObject({ name: 'mlscale-workspace', location: 'northeurope' });
  });

  it('checks api-version and the bearer token, answering in ARM error shape', async () => {
    const missing = await send('GET', `${workspacePath}/onlineEndpoints`);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('MissingApiVersionParameter');
    const wrong = await send('GET', `${workspacePath}/onlineEndpoints?api-version=2019-01-01`);
    expect(wrong.body.error).toMatchObject({
      code: 'InvalidApiVersionParameter',
      message: expect.stringContaining('2022-10-01'),
    });
    const anonymous = await send('GET', `${workspacePath}/onlineEndpoints${api}`, undefined, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('AuthenticationFailed');
    const notFound = await send('GET', `${workspacePath}/onlineEndpoints/nope${api}`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.error.code).toBe('ResourceNotFound');
  });

  it('never falls over on a bad request', async () => {
    const garbage = await send('PUT', `${workspacePath}/onlineEndpoints/broken${api}`, undefined, {
      raw: '{"location": ',
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('InvalidRequestContent');
    const wrongShape = await send('PUT', `${workspacePath}/onlineEndpoints/broken${api}`, {
      location: 'x',
      properties: { authMode: 'Password' },
    });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.error.message).toContain('authMode');
    const unknown = await send('GET', '/nothing/here');
    expect(unknown.status).toBe(404);
    expect((await send('GET', `${workspacePath}${api}`)).status).toBe(200);
  });

  it('runs PUT as a long-running operation: 201 with Azure-AsyncOperation, InProgress then Succeeded', async () => {
    const created = await send('PUT', `${workspacePath}/onlineEndpoints/wire-ep${api}`, {
      location: 'northeurope',
      properties: { authMode: 'Key' },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties.provisioningState).toBe('Creating');
    const operation = String(created.headers['azure-asyncoperation']);
    expect(operation).toMatch(
      /^https:\/\/management\.azure\.com\/subscriptions\/.+\/providers\/Microsoft\.MachineLearningServices\/locations\/northeurope\/mfeOperationsStatus\/[0-9a-f-]+\?api-version=2022-10-01$/,
    );
    const first = await send('GET', new URL(operation).pathname + new URL(operation).search);
    expect(first.body.status).toBe('InProgress');
    const finished = await pollUntil(operation, (answer) => answer.body.status !== 'InProgress');
    expect(finished.body).toMatchObject({
      status: 'Succeeded',
      startTime: expect.any(String),
      endTime: expect.any(String),
    });
    const endpoint = await send('GET', `${workspacePath}/onlineEndpoints/wire-ep${api}`);
    expect(endpoint.body.properties.provisioningState).toBe('Succeeded');
  });

  it('enforces traffic rules: only provisioned deployments, whole percentages adding to 100, no delete while serving', async () => {
    const deployment = await send('PUT', `${workspacePath}/onlineEndpoints/wire-ep/deployments/blue${api}`, {
      location: 'northeurope',
      sku: { name: 'Default', capacity: 1 },
      properties: { endpointComputeType: 'Managed', instanceType: 'Standard_DS3_v2' },
    });
    expect(deployment.status).toBe(201);
    const early = await send('PUT', `${workspacePath}/onlineEndpoints/wire-ep${api}`, {
      location: 'northeurope',
      properties: { authMode: 'Key', traffic: { blue: 100 } },
    });
    expect(early.status).toBe(400);
    await pollUntil(
      String(deployment.headers['azure-asyncoperation']),
      (answer) => answer.body.status === 'Succeeded',
    );
    const partial = await send('PUT', `${workspacePath}/onlineEndpoints/wire-ep${api}`, {
      location: 'northeurope',
      properties: { authMode: 'Key', traffic: { blue: 60 } },
    });
    expect(partial.body.error.message).toContain('Traffic values need to sum to 100; they sum to 60');
    const routed = await send('PUT', `${workspacePath}/onlineEndpoints/wire-ep${api}`, {
      location: 'northeurope',
      properties: { authMode: 'Key', traffic: { blue: 100 } },
    });
    expect(routed.status).toBe(200);
    const refused = await send('DELETE', `${workspacePath}/onlineEndpoints/wire-ep/deployments/blue${api}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('100%');
  });

  it('runs PATCH and DELETE as 202 with Location, polled until done', async () => {
    const patched = await send('PATCH', `${workspacePath}/onlineEndpoints/wire-ep/deployments/blue${api}`, {
      sku: { capacity: 3 },
    });
    expect(patched.status).toBe(202);
    expect(patched.headers.location).toMatch(/mfeOperationResults/);
    const result = await pollUntil(String(patched.headers.location), (answer) => answer.status !== 202);
    expect(result.status).toBe(200);
    expect(result.body.sku.capacity).toBe(3);
    const deleted = await send('DELETE', `${workspacePath}/onlineEndpoints/wire-ep${api}`);
    expect(deleted.status).toBe(202);
    const gone = await pollUntil(String(deleted.headers.location), (answer) => answer.status !== 202);
    expect(gone.status).toBe(204);
    expect((await send('GET', `${workspacePath}/onlineEndpoints/wire-ep${api}`)).status).toBe(404);
    expect((await send('DELETE', `${workspacePath}/onlineEndpoints/wire-ep${api}`)).status).toBe(204);
  });

  it('keeps an operation running longer under the slow fault, and paces polls with Retry-After when asked', async () => {
    emulator.inject({ kind: 'slow', extraMs: 60_000 });
    const slow = await send('PUT', `${workspacePath}/onlineEndpoints/slow-ep${api}`, {
      location: 'x',
      properties: { authMode: 'Key' },
    });
    const operation = new URL(String(slow.headers['azure-asyncoperation']));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await send('GET', operation.pathname + operation.search)).body.status).toBe('InProgress');

    const paced = await startAzureMlEmulator({ delays: { pollRetryAfterSeconds: 3 } });
    try {
      const created = await new Promise<Answer>((resolve, reject) => {
        const outgoing = httpsRequest(
          new URL(`${workspacePath}/onlineEndpoints/paced${api}`, paced.url),
          {
            method: 'PUT',
            agent: paced.agent,
            headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
          },
          (incoming) => {
            incoming.resume();
            incoming.on('end', () =>
              resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: undefined }),
            );
          },
        );
        outgoing.on('error', reject);
        outgoing.end(JSON.stringify({ location: 'x', properties: { authMode: 'Key' } }));
      });
      const pollUrl = new URL(String(created.headers['azure-asyncoperation']));
      const poll = await new Promise<Answer>((resolve, reject) => {
        httpsRequest(
          new URL(pollUrl.pathname + pollUrl.search, paced.url),
          { agent: paced.agent, headers: { authorization: 'Bearer t' } },
          (incoming) => {
            incoming.resume();
            incoming.on('end', () =>
              resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: undefined }),
            );
          },
        )
          .on('error', reject)
          .end();
      });
      expect(poll.headers['retry-after']).toBe('3');
    } finally {
      await paced.close();
    }
  });

  it('answers 429 with Retry-After and 500 when those faults are armed', async () => {
    emulator.inject({ kind: 'throttle', path: '/jobs', retryAfterSeconds: 7 });
    emulator.inject({ kind: 'serverError', path: '/jobs' });
    const throttled = await send('GET', `${workspacePath}/jobs${api}`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('7');
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect((await send('GET', `${workspacePath}/jobs${api}`)).status).toBe(500);
    expect((await send('GET', `${workspacePath}/jobs${api}`)).status).toBe(200);
  });
});

describe('Azure Monitor autoscale', () => {
  it('stores a setting PUT without enabled as disabled, and a disabled setting scales nothing', async () => {
    const endpoint = await send('PUT', `${workspacePath}/onlineEndpoints/auto-ep${api}`, {
      location: 'northeurope',
      properties: { authMode: 'Key' },
    });
    await pollUntil(
      String(endpoint.headers['azure-asyncoperation']),
      (answer) => answer.body.status === 'Succeeded',
    );
    const deployment = await send('PUT', `${workspacePath}/onlineEndpoints/auto-ep/deployments/green${api}`, {
      location: 'northeurope',
      sku: { name: 'Default', capacity: 1 },
      properties: { endpointComputeType: 'Managed' },
    });
    await pollUntil(
      String(deployment.headers['azure-asyncoperation']),
      (answer) => answer.body.status === 'Succeeded',
    );
    const { subscriptionId, resourceGroup } = emulator.settings;
    const settingPath = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Insights/autoscalesettings/forgot-enabled?api-version=2015-04-01`;
    const setting = await send('PUT', settingPath, {
      location: 'northeurope',
      properties: {
        targetResourceUri: deployment.body.id,
        profiles: [{ name: 'p', capacity: { minimum: '2', maximum: '4', default: '2' }, rules: [] }],
      },
    });
    expect(setting.status).toBe(201);
    expect(setting.body.properties.enabled).toBe(false);
    const unchanged = await send('GET', `${workspacePath}/onlineEndpoints/auto-ep/deployments/green${api}`);
    expect(unchanged.body.sku.capacity).toBe(1);
    await send('PUT', settingPath, {
      location: 'northeurope',
      properties: {
        enabled: true,
        targetResourceUri: deployment.body.id,
        profiles: [{ name: 'p', capacity: { minimum: '2', maximum: '4', default: '2' }, rules: [] }],
      },
    });
    const raised = await send('GET', `${workspacePath}/onlineEndpoints/auto-ep/deployments/green${api}`);
    expect(raised.body.sku.capacity).toBe(2);
    const badTarget = await send('PUT', settingPath, {
      location: 'northeurope',
      properties: {
        enabled: true,
        targetResourceUri: '/subscriptions/x/nothing',
        profiles: [{ name: 'p', capacity: { minimum: '1', maximum: '2', default: '1' }, rules: [] }],
      },
    });
    expect(badTarget.body.error.code).toBe('TargetResourceNotFound');
  });
});

describe('scoring', () => {
  it('needs the endpoint key and honours the azureml-model-deployment header', async () => {
    const endpoint = await send('PUT', `${workspacePath}/onlineEndpoints/score-ep${api}`, {
      location: 'northeurope',
      properties: { authMode: 'Key' },
    });
    await pollUntil(
      String(endpoint.headers['azure-asyncoperation']),
      (answer) => answer.body.status === 'Succeeded',
    );
    const deployment = await send('PUT', `${workspacePath}/onlineEndpoints/score-ep/deployments/only${api}`, {
      location: 'northeurope',
      properties: { endpointComputeType: 'Managed' },
    });
    await pollUntil(
      String(deployment.headers['azure-asyncoperation']),
      (answer) => answer.body.status === 'Succeeded',
    );
    const keys = await send('POST', `${workspacePath}/onlineEndpoints/score-ep/listKeys${api}`);
    const infer = { inputs: [{ name: 'a', datatype: 'INT32', shape: [2, 2], data: [1, 2, 3, 4] }] };
    const noTraffic = await send('POST', '/online-scoring/score-ep/score', infer, {
      token: keys.body.primaryKey,
    });
    expect(noTraffic.status).toBe(404);
    const wrongKey = await send('POST', '/online-scoring/score-ep/score', infer, { token: 'not-the-key' });
    expect(wrongKey.status).toBe(401);
    const direct = await new Promise<Answer>((resolve, reject) => {
      const outgoing = httpsRequest(
        new URL('/online-scoring/score-ep/score', emulator.url),
        {
          method: 'POST',
          agent: emulator.agent,
          headers: {
            authorization: `Bearer ${keys.body.secondaryKey}`,
            'azureml-model-deployment': 'only',
            'content-type': 'application/json',
          },
        },
        (incoming) => {
          let text = '';
          incoming.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          incoming.on('end', () =>
            resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: JSON.parse(text) }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(JSON.stringify(infer));
    });
    expect(direct.status).toBe(200);
    expect(direct.body.outputs).toEqual([
      { name: 'a_row_sum', datatype: 'FP64', shape: [2, 1], data: [3, 7] },
    ]);
    const logs = await send(
      'POST',
      `${workspacePath}/onlineEndpoints/score-ep/deployments/only/getLogs${api}`,
      { containerType: 'InferenceServer', tail: 1 },
    );
    expect(logs.body.content).toMatch(/POST \/score 200 /);
  });
});
