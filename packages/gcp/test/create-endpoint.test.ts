import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVertexTestSetup, type VertexTestSetup } from './vertex-test-setup.js';

/** A key the emulator's Vertex AI service agent is not allowed to use. */
const lockedKey = 'projects/mlscale-test/locations/us-central1/keyRings/serving/cryptoKeys/locked';

describe('vertex() creating the endpoint that holds a deployment', () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;

  beforeAll(async () => {
    setup = await startVertexTestSetup();
    // The client retries what is retryable: a refusal reported as retryable would be sent again.
    client = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    });
  }, 60_000);

  afterEach(() => {
    setup.emulator.setFaults({});
    setup.emulator.setDelays({});
  });

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  const creates = (name: string) =>
    setup.emulator.requests.filter(
      (request) =>
        request.method === 'EndpointService.CreateEndpoint' &&
        (request.request as { endpointId?: string }).endpointId === `mlscale-${name}`,
    ).length;
  const endpointsNamed = (name: string) =>
    [...setup.emulator.state.endpoints.values()].filter(
      (endpoint) => endpoint.labels['mlscale-deployment'] === name,
    );

  it("reports a CreateEndpoint whose operation fails (a key Vertex's service agent cannot use) as Vertex's refusal, sent once", async () => {
    setup.emulator.setFaults({ unusableEncryptionKeys: [lockedKey] });
    const spec = { name: 'locked', model: { uri: setup.modelPath }, encryption: { keyId: lockedKey } };
    const error = await client.deploy(spec).catch((caught: unknown) => caught);
    expect(MlscaleError.isInstance(error)).toBe(true);
    expect((error as MlscaleError).retryable).toBe(false);
    expect((error as Error).message).toContain(
      `Provided CryptoKey ${lockedKey} cannot be used in Vertex AI service`,
    );
    expect(creates('locked')).toBe(1);
    expect(endpointsNamed('locked')).toHaveLength(0);

    // Once the service agent may use the key, the same deploy creates the endpoint and serves.
    setup.emulator.setFaults({});
    const status = await client.deploy(spec);
    expect(status.state).toBe('InService');
    expect(creates('locked')).toBe(2);
    await client.delete('locked');
  });

  it('answers Creating when CreateEndpoint outlasts its short wait; reconcile then finds the operation failed', async () => {
    setup.emulator.setFaults({ unusableEncryptionKeys: [lockedKey] });
    setup.emulator.setDelays({ operationMs: 700 });
    const backend = setup.newBackend({
      polling: { minDelayMs: 5, maxDelayMs: 50, createEndpointWaitMs: 200 },
    });
    const spec = { name: 'slow-locked', model: { uri: setup.modelPath }, encryption: { keyId: lockedKey } };
    const started = Date.now();
    const status = await createMlscale({ backend, retry: false }).deploy(spec, { wait: false });
    expect(Date.now() - started).toBeLessThan(650);
    expect(status.state).toBe('Creating');
    expect(status.stateReason).toMatch(/CreateEndpoint in progress/);

    // Each step waits a little for the operation; a step that finds it still running is worth retrying.
    let outcome: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      outcome = await backend.deployments.doReconcile('slow-locked', {}).catch((caught: unknown) => caught);
      if (!(MlscaleError.isInstance(outcome) && outcome.retryable)) break;
    }
    expect(MlscaleError.isInstance(outcome)).toBe(true);
    expect((outcome as MlscaleError).retryable).toBe(false);
    expect((outcome as Error).message).toContain('cannot be used in Vertex AI service');
    expect(creates('slow-locked')).toBe(1);
  });

  it('answers Creating when CreateEndpoint outlasts its short wait, and converges once the endpoint exists', async () => {
    setup.emulator.setDelays({ operationMs: 600 });
    const backend = setup.newBackend({
      polling: { minDelayMs: 5, maxDelayMs: 50, createEndpointWaitMs: 200 },
    });
    const patient = createMlscale({
      backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const status = await patient.deploy({ name: 'slow', model: { uri: setup.modelPath } });
    expect(status.state).toBe('InService');
    expect(creates('slow')).toBe(1);
    expect(endpointsNamed('slow')).toHaveLength(1);
    setup.emulator.setDelays({});
    await patient.delete('slow');
  });
});
