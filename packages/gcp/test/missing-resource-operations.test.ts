import { createMlscale } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVertexTestSetup, type VertexTestSetup } from './vertex-test-setup.js';

/**
 * A deployment's steps list the operations of its endpoint and models before those exist (and after
 * they are gone). AIP-132 has a List whose parent is missing answer NOT_FOUND; Vertex does not say
 * whether ListOperations does, so the adapter reads NOT_FOUND there as "no operations".
 */
describe('vertex() when ListOperations of a missing resource answers NOT_FOUND', () => {
  let setup: VertexTestSetup;

  beforeAll(async () => {
    setup = await startVertexTestSetup({ missingResourceOperations: 'notFound' });
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  it('deploys, updates and deletes as when the list is empty', async () => {
    const client = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: false,
    });
    const deployed = await client.deploy({ name: 'unlisted', model: { uri: setup.modelPath } });
    expect(deployed.state).toBe('InService');
    const updated = await client.update({ name: 'unlisted', model: { uri: setup.secondModelPath } });
    expect(updated.state).toBe('InService');
    expect(await client.delete('unlisted')).toEqual({ deleted: true });
    expect(setup.emulator.inspection.inventory('unlisted')).toEqual({
      endpoints: [],
      deployedModels: [],
      models: [],
    });
    expect(
      setup.emulator.requests.filter((request) => request.method === 'Operations.ListOperations').length,
    ).toBeGreaterThan(0);
  });
});
