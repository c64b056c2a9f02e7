import { MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';

let backend: EmulatedBackend;
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [2, 3] }] };

beforeAll(async () => {
  backend = await startEmulatedBackend();
});

afterAll(() => backend.close());

describe('logs and delete', () => {
  it('reads StorageInitializer and InferenceServer logs back as entries', async () => {
    const { client, registerVersion } = backend;
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
    const { client } = backend;
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

  it('deletes the autoscale settings, the environment, then the endpoint with its deployments', async () => {
    const { emulator, client, registerVersion } = backend;
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
    expect(emulator.inspection.inventory('brief-api').length).toBe(4);
    const start = emulator.requests.length;
    expect(await client.delete('brief-api')).toEqual({ deleted: true });
    const listed = [];
    for await (const status of client.list()) listed.push(status.name);
    expect(listed).not.toContain('brief-api');
    const deletes = emulator.requests
      .slice(start)
      .filter((item) => item.method === 'DELETE')
      .map((item) => item.path.replace(/^.*\/(autoscalesettings|environments|onlineEndpoints)\//i, '$1/'));
    expect(deletes).toEqual([
      'autoscalesettings/mlscale-brief-api-brief-v1',
      expect.stringMatching(/^environments\/mlscale-server-brief-api\/versions\/[0-9a-f]{16}$/),
      'onlineEndpoints/brief-api',
    ]);
    expect(emulator.inspection.inventory('brief-api')).toEqual([]);
    // The model the user registered is theirs: it stays.
    expect((await client.models.get('brief')).version).toBe(1);
  });
});
