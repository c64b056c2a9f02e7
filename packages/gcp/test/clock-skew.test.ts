import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVertexTestSetup, type VertexTestSetup } from './vertex-test-setup.js';

const hour = 3_600_000;
const outOfCapacity = 'The machine type n1-standard-4 is out of capacity in us-central1-a.';

/**
 * Which failed operations refuse a change is decided from Vertex's own times, never from this
 * machine's clock: here Vertex's clock runs an hour ahead of or behind the adapter's.
 */
describe("vertex() when this machine's clock differs from Vertex's", () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;

  beforeAll(async () => {
    setup = await startVertexTestSetup();
    // No client retries: a DeployModel sent again is the adapter's doing.
    client = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: false,
    });
  }, 60_000);

  afterEach(() => {
    setup.emulator.setClockSkew(0);
    setup.emulator.setFaults({});
  });

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  const deploysOf = (name: string) =>
    setup.emulator.requests.filter(
      (request) =>
        request.method === 'EndpointService.DeployModel' &&
        String(request.request.endpoint).endsWith(`/mlscale-${name}`),
    ).length;

  it('refuses a deploy whose DeployModel failed, with this clock an hour ahead, without sending it again', async () => {
    setup.emulator.setClockSkew(-hour);
    setup.emulator.setFaults({ failOperations: { methods: ['DeployModel'], message: outOfCapacity } });
    const error = await client
      .deploy({ name: 'ahead', model: { uri: setup.modelPath } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(outOfCapacity);
    expect(deploysOf('ahead')).toBe(1);
    await client.delete('ahead');
  });

  it('does not refuse a new request for an earlier failure, with this clock an hour behind', async () => {
    setup.emulator.setClockSkew(hour);
    setup.emulator.setFaults({ failOperations: { methods: ['DeployModel'], message: outOfCapacity } });
    const spec = { name: 'behind', model: { uri: setup.modelPath } };
    const refused = await client.deploy(spec).catch((caught: unknown) => caught);
    expect((refused as Error).message).toContain(outOfCapacity);
    // The same spec asked for again is tried again: the failed DeployModel was the earlier request's.
    const status = await client.deploy(spec);
    expect(status.state).toBe('InService');
    expect(deploysOf('behind')).toBe(2);
    await client.delete('behind');
  });
});
