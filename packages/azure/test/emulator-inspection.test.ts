import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureMlEmulator, operationOf, startAzureMlEmulator } from '../src/emulator/index.js';
import { machineLearningApi as api, pollUntil, sendTo, workspacePathOf } from './emulator-https.js';

let emulator: AzureMlEmulator;
let workspace = '';
const send = (method: string, path: string, body?: unknown) => sendTo(emulator, method, path, body);

beforeAll(async () => {
  emulator = await startAzureMlEmulator({ delays: { provisioningMs: 0, deletionMs: 0 } });
  workspace = workspacePathOf(emulator);
});

afterAll(() => emulator.close());

async function endpointWithDeployment(name: string, environmentVariables: Record<string, string> = {}) {
  const endpoint = await send('PUT', `${workspace}/onlineEndpoints/${name}${api}`, {
    location: 'eastus',
    properties: { authMode: 'Key' },
  });
  await pollUntil(
    emulator,
    String(endpoint.headers['azure-asyncoperation']),
    (answer) => answer.body.status !== 'InProgress',
  );
  const deployment = await send('PUT', `${workspace}/onlineEndpoints/${name}/deployments/blue${api}`, {
    location: 'eastus',
    properties: { endpointComputeType: 'Managed', environmentVariables },
  });
  await pollUntil(
    emulator,
    String(deployment.headers['azure-asyncoperation']),
    (answer) => answer.body.status !== 'InProgress',
  );
  const routed = await send('PUT', `${workspace}/onlineEndpoints/${name}${api}`, {
    location: 'eastus',
    properties: { authMode: 'Key', traffic: { blue: 100 } },
  });
  await pollUntil(
    emulator,
    String(routed.headers['azure-asyncoperation']),
    (answer) => answer.body.status !== 'InProgress',
  );
  return deployment.body.id as string;
}

describe('the inspection API', () => {
  it('names each request by its operation and logs faulted ones too', async () => {
    expect(operationOf('PUT', `${workspace}/onlineEndpoints/a/deployments/b`)).toBe(
      'PUT onlineEndpoints/deployments',
    );
    expect(operationOf('POST', `${workspace}/onlineEndpoints/a/deployments/b/getLogs`)).toBe(
      'POST onlineEndpoints/deployments/getLogs',
    );
    expect(operationOf('PUT', `${workspace}/models/m/versions/1`)).toBe('PUT models/versions');
    expect(
      operationOf(
        'DELETE',
        '/subscriptions/s/resourceGroups/r/providers/Microsoft.Insights/autoscalesettings/x',
      ),
    ).toBe('DELETE autoscalesettings');
    const { inspection } = emulator;
    expect(inspection.isMutating('PATCH onlineEndpoints')).toBe(true);
    expect(inspection.isMutating('POST onlineEndpoints/listKeys')).toBe(false);
    expect(inspection.isMutating('POST onlineEndpoints/regenerateKeys')).toBe(true);
    expect(inspection.isMutating('GET onlineEndpoints')).toBe(false);
    inspection.resetRequests();
    await send('GET', `${workspace}/onlineEndpoints/nothing${api}`);
    expect(inspection.requests().map((item) => `${item.operation} ${item.status}`)).toEqual([
      'GET onlineEndpoints 404',
    ]);
  });

  it('answers armed faults as ARM does, before acting, and only for the operation named', async () => {
    const { inspection } = emulator;
    inspection.injectFault('accessDenied', 'PUT onlineEndpoints', 1);
    inspection.injectFault('throttling', 'DELETE onlineEndpoints', 1, { retryAfterSeconds: 0 });
    inspection.injectFault('serverError', 'GET onlineEndpoints', 2);
    const body = { location: 'eastus', properties: { authMode: 'Key' } };
    const denied = await send('PUT', `${workspace}/onlineEndpoints/faulted${api}`, body);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('AuthorizationFailed');
    expect(denied.body.error.message).toContain(
      "perform action 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write'",
    );
    expect(inspection.inventory('faulted')).toEqual([]);
    expect((await send('GET', `${workspace}/onlineEndpoints/faulted${api}`)).status).toBe(500);
    expect((await send('GET', `${workspace}/onlineEndpoints/faulted${api}`)).status).toBe(500);
    expect((await send('GET', `${workspace}/onlineEndpoints/faulted${api}`)).status).toBe(404);
    expect((await send('PUT', `${workspace}/onlineEndpoints/faulted${api}`, body)).status).toBe(201);
    const throttled = await send('DELETE', `${workspace}/onlineEndpoints/faulted${api}`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('0');
    inspection.injectFault('serverError', 'DELETE onlineEndpoints', 5);
    inspection.clearFaults();
    expect((await send('DELETE', `${workspace}/onlineEndpoints/faulted${api}`)).status).toBe(202);
  });

  it('calls listeners after acting and before answering', async () => {
    const { inspection } = emulator;
    const seen: { operation: string; held: string[] }[] = [];
    const stop = inspection.onRequest((request) => {
      if (request.operation === 'PUT onlineEndpoints')
        seen.push({ operation: request.operation, held: inspection.inventory('heard') });
    });
    const answered = await send('PUT', `${workspace}/onlineEndpoints/heard${api}`, {
      location: 'eastus',
      properties: { authMode: 'Key' },
    });
    stop();
    expect(answered.status).toBe(201);
    expect(seen).toEqual([{ operation: 'PUT onlineEndpoints', held: ['onlineEndpoints/heard'] }]);
    await send('PUT', `${workspace}/onlineEndpoints/heard${api}`, {
      location: 'eastus',
      properties: { authMode: 'Key' },
    });
    expect(seen.length).toBe(1);
  });

  it('reports what an endpoint holds, its autoscaling and container environment, and dumps state without environments', async () => {
    const { inspection } = emulator;
    const deploymentId = await endpointWithDeployment('held-ep', { API_TOKEN: 'sk-inspection-secret' });
    const settings = `/subscriptions/${emulator.settings.subscriptionId}/resourceGroups/${emulator.settings.resourceGroup}/providers/Microsoft.Insights/autoscalesettings`;
    const profile = { name: 'p', capacity: { minimum: '1', maximum: '3', default: '1' }, rules: [] };
    await send('PUT', `${settings}/held-scaling?api-version=2015-04-01`, {
      location: 'eastus',
      properties: { enabled: true, targetResourceUri: deploymentId, profiles: [profile] },
    });
    await send('PUT', `${workspace}/models/held-ep/versions/1${api}`, {
      properties: { modelUri: 'azureml://x', tags: { 'mlscale-endpoint': 'held-ep' } },
    });
    await send('PUT', `${workspace}/models/someone-else/versions/1${api}`, {
      properties: { modelUri: 'azureml://y' },
    });
    expect(inspection.inventory('held-ep')).toEqual([
      'autoscalesettings/held-scaling',
      'models/held-ep/versions/1',
      'onlineEndpoints/held-ep',
      'onlineEndpoints/held-ep/deployments/blue',
    ]);
    expect(inspection.autoscaling('held-ep')).toEqual({ minReplicas: 1, maxReplicas: 3 });
    expect(inspection.containerEnvironment('held-ep')).toEqual({ API_TOKEN: 'sk-inspection-secret' });
    const dump = inspection.dump();
    expect(dump).toContain('held-ep');
    expect(dump).toContain('[container environment]');
    expect(dump).not.toContain('sk-inspection-secret');
    // A setting left aimed at a deleted endpoint still belongs to it.
    await send('DELETE', `${workspace}/onlineEndpoints/held-ep${api}`);
    expect(inspection.inventory('held-ep')).toEqual([
      'autoscalesettings/held-scaling',
      'models/held-ep/versions/1',
    ]);
  });
});
