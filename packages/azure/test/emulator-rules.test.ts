import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator } from '../src/emulator/index.js';
import { machineLearningApi as api, pollUntil, sendTo, workspacePathOf } from './emulator-https.js';

let emulator: AzureMlEmulator;
let workspace = '';
const send = (method: string, path: string, body?: unknown) => sendTo(emulator, method, path, body);

/** Creates an endpoint (with `properties`) and waits until it has Succeeded. */
async function createEndpoint(name: string, extra: Record<string, unknown> = {}) {
  const created = await send('PUT', `${workspace}/onlineEndpoints/${name}${api}`, {
    location: 'eastus',
    properties: { authMode: 'Key', properties: { 'made-by': 'test' } },
    ...extra,
  });
  expect(created.status).toBe(201);
  await pollUntil(
    emulator,
    String(created.headers['azure-asyncoperation']),
    (answer) => answer.body.status === 'Succeeded',
  );
  return created;
}

beforeAll(async () => {
  emulator = await startAzureMlEmulator();
  workspace = workspacePathOf(emulator);
});

afterAll(() => emulator.close());

describe('what Azure refuses, the emulator refuses', () => {
  it('keeps endpoint properties: they can be added, but not removed or altered', async () => {
    await createEndpoint('props-ep');
    const put = (properties: Record<string, string>) =>
      send('PUT', `${workspace}/onlineEndpoints/props-ep${api}`, {
        location: 'eastus',
        properties: { authMode: 'Key', properties },
      });
    const altered = await put({ 'made-by': 'someone else' });
    expect(altered.status).toBe(400);
    expect(altered.body.error).toMatchObject({
      code: 'UserError',
      message: expect.stringContaining('altered'),
    });
    const removed = await put({});
    expect(removed.status).toBe(400);
    expect(removed.body.error.message).toContain("'made-by' cannot be removed");
    const added = await put({ 'made-by': 'test', extra: 'fine' });
    expect(added.status).toBe(200);
    expect(added.body.properties.properties).toEqual({ 'made-by': 'test', extra: 'fine' });
  });

  it('refuses a deployment while its endpoint is not Succeeded', async () => {
    const created = await send('PUT', `${workspace}/onlineEndpoints/early-ep${api}`, {
      location: 'eastus',
      properties: { authMode: 'Key' },
    });
    expect(created.body.properties.provisioningState).toBe('Creating');
    const deployment = await send('PUT', `${workspace}/onlineEndpoints/early-ep/deployments/blue${api}`, {
      location: 'eastus',
      properties: { endpointComputeType: 'Managed' },
    });
    expect(deployment.status).toBe(400);
    expect(deployment.body.error.message).toBe(
      'Cannot create a deployment in endpoint early-ep because it is in Creating provisioning state.',
    );
  });

  it('refuses a write to an endpoint or deployment while an operation runs on it: 409 RequestConflict', async () => {
    await createEndpoint('held-ep', { properties: { authMode: 'Key', properties: { 'made-by': 'test' } } });
    const endpointPath = `${workspace}/onlineEndpoints/held-ep${api}`;
    const body = { location: 'eastus', properties: { authMode: 'Key', properties: { 'made-by': 'test' } } };
    const updating = await send('PUT', endpointPath, body);
    expect(updating.body.properties.provisioningState).toBe('Updating');
    for (const write of [
      send('PUT', endpointPath, body),
      send('PATCH', endpointPath, { tags: { a: 'b' } }),
    ]) {
      const answer = await write;
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('RequestConflict');
      expect(answer.body.error.message).toContain('provisioning state is not terminal');
    }
    await pollUntil(
      emulator,
      String(updating.headers['azure-asyncoperation']),
      (answer) => answer.body.status === 'Succeeded',
    );
    expect((await send('PATCH', endpointPath, { tags: { a: 'b' } })).status).toBe(202);

    const deploymentPath = `${workspace}/onlineEndpoints/held-ep/deployments/blue${api}`;
    const deployment = { location: 'eastus', properties: { endpointComputeType: 'Managed' } };
    expect((await send('PUT', deploymentPath, deployment)).body.properties.provisioningState).toBe(
      'Creating',
    );
    for (const write of [
      send('PUT', deploymentPath, deployment),
      send('PATCH', deploymentPath, { sku: { capacity: 2 } }),
    ]) {
      const answer = await write;
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('RequestConflict');
    }
    // A request that is wrong in itself is answered for that first.
    expect((await send('PATCH', deploymentPath, { sku: { capacity: 0 } })).status).toBe(400);
  });

  it('holds tags to ARM limits: 50 tags, 256-character values, no reserved characters in names', async () => {
    const endpoint = (tags: Record<string, string>) =>
      send('PUT', `${workspace}/onlineEndpoints/tagged-ep${api}`, {
        location: 'eastus',
        tags,
        properties: { authMode: 'Key' },
      });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`tag-${index}`, 'x']));
    expect((await endpoint(many)).body.error.code).toBe('InvalidTagCount');
    expect((await endpoint({ long: 'x'.repeat(257) })).body.error.code).toBe('InvalidTagValueLength');
    expect((await endpoint({ 'a/b': 'x' })).body.error.code).toBe('InvalidTagNameCharacters');
    const fifty = Object.fromEntries(
      Array.from({ length: 50 }, (_, index) => [`tag-${index}`, 'y'.repeat(256)]),
    );
    expect((await endpoint(fifty)).status).toBe(201);
    const patched = await send('PATCH', `${workspace}/onlineEndpoints/tagged-ep${api}`, {
      tags: { ...fifty, oneMore: 'x' },
    });
    expect(patched.status).toBe(400);
  });

  it('applies a tags-only PATCH at once, without another provisioning', async () => {
    await createEndpoint('patched-ep');
    const patched = await send('PATCH', `${workspace}/onlineEndpoints/patched-ep${api}`, {
      tags: { team: 'a' },
    });
    expect(patched.status).toBe(202);
    const result = await pollUntil(
      emulator,
      String(patched.headers.location),
      (answer) => answer.status !== 202,
    );
    expect(result.body.tags).toEqual({ team: 'a' });
    const endpoint = await send('GET', `${workspace}/onlineEndpoints/patched-ep${api}`);
    expect(endpoint.body.properties.provisioningState).toBe('Succeeded');
  });

  it('names endpoints and deployments as Azure does: a letter first, 3 to 32 letters, digits and hyphens', async () => {
    for (const name of ['ab', 'a'.repeat(33), '1abc', 'abc-']) {
      const answer = await send('PUT', `${workspace}/onlineEndpoints/${name}${api}`, {
        location: 'eastus',
        properties: { authMode: 'Key' },
      });
      expect(answer.status, name).toBe(400);
      expect(answer.body.error.message).toContain('3 to 32 characters');
    }
    expect(
      (
        await send('PUT', `${workspace}/onlineEndpoints/${'a'.repeat(32)}${api}`, {
          location: 'eastus',
          properties: { authMode: 'Key' },
        })
      ).status,
    ).toBe(201);
  });

  it('routes traffic only to existing deployments, adding up to 100, and mirrors at most 50% to one idle deployment', async () => {
    await createEndpoint('routed-ep');
    for (const color of ['blue', 'green']) {
      const deployment = await send(
        'PUT',
        `${workspace}/onlineEndpoints/routed-ep/deployments/${color}${api}`,
        {
          location: 'eastus',
          properties: { endpointComputeType: 'Managed' },
        },
      );
      await pollUntil(
        emulator,
        String(deployment.headers['azure-asyncoperation']),
        (answer) => answer.body.status === 'Succeeded',
      );
    }
    const route = (properties: Record<string, unknown>) =>
      send('PUT', `${workspace}/onlineEndpoints/routed-ep${api}`, {
        location: 'eastus',
        properties: { authMode: 'Key', properties: { 'made-by': 'test' }, ...properties },
      });
    const refusal = async (properties: Record<string, unknown>) => {
      const answer = await route(properties);
      return { status: answer.status, ...answer.body.error };
    };
    expect(await refusal({ traffic: { blue: 60, green: 30 } })).toMatchObject({
      status: 400,
      code: 'BadArgument',
      message: 'properties.traffic: Traffic values need to sum to 100; they sum to 90.',
    });
    expect(await refusal({ traffic: { blue: 100, purple: 0 } })).toMatchObject({
      status: 400,
      code: 'BadArgument',
      message: "properties.traffic: deployment 'purple' does not exist under this endpoint.",
    });
    expect(await refusal({ traffic: { blue: 100 }, mirrorTraffic: { green: 60 } })).toMatchObject({
      status: 400,
      code: 'BadArgument',
      message: 'properties.mirrorTraffic: Traffic values need to sum to utmost 50; they sum to 60.',
    });
    expect(await refusal({ traffic: { blue: 100 }, mirrorTraffic: { green: 12.5 } })).toMatchObject({
      status: 400,
      code: 'BadArgument',
      message:
        'properties.mirrorTraffic.green: Traffic values are whole percentages from 0 to 100; got 12.5.',
    });
    expect(await refusal({ traffic: { blue: 90, green: 10 }, mirrorTraffic: { green: 10 } })).toMatchObject({
      status: 400,
      code: 'BadArgument',
      message:
        "properties.mirrorTraffic: deployment 'green' receives live traffic; a deployment receives live or mirrored traffic, not both.",
    });
    expect(await refusal({ traffic: { blue: 100 }, mirrorTraffic: { blue: 5, green: 5 } })).toMatchObject({
      status: 400,
      code: 'BadArgument',
    });
    expect((await route({ traffic: { blue: 100 }, mirrorTraffic: { green: 50 } })).status).toBe(200);
  });
});
