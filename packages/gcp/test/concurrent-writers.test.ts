import { createMlscale, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployment } from '../src/adapter/deployment-store.js';
import { startVertexTestSetup, type VertexTestSetup } from './vertex-test-setup.js';

/**
 * Two processes writing one deployment's record: each write sends the etag of the endpoint it read, so
 * a write based on a read that another process's write overtook is refused (and the step taken again
 * from a fresh read) instead of erasing what the other process recorded.
 */
describe('vertex() with two processes writing one deployment', () => {
  let setup: VertexTestSetup;

  beforeAll(async () => {
    setup = await startVertexTestSetup();
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  const recorded = (name: string) => {
    const endpoint = [...setup.emulator.state.endpoints.values()].find(
      (candidate) => candidate.labels['mlscale-deployment'] === name,
    )!;
    return { endpoint, stored: readDeployment(endpoint)! };
  };

  it("keeps another process's update that lands between a step's read and its write", async () => {
    const client = createMlscale({ backend: setup.backend, polling: { minDelayMs: 5, maxDelayMs: 50 } });
    const spec = { name: 'shared', model: { uri: setup.modelPath } };
    await client.deploy(spec);
    const stepping = setup.newBackend().deployments;
    const other = setup.newBackend().deployments;

    // The first process asks for two replicas and steps until only the step that records convergence is left.
    await stepping.doUpdate({ ...spec, replicas: 2 }, {});
    await stepping.doReconcile('shared', {});
    for (let attempt = 0; attempt < 200; attempt++) {
      const replicas = recorded('shared').endpoint.deployedModels[0]?.dedicatedResources?.minReplicaCount;
      if (Number(replicas) === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // Its next step reads the endpoint; before it writes, the other process records three replicas.
    const held = setup.emulator.inspection.holdAnswer('GetEndpoint');
    const step = stepping.doReconcile('shared', {}).catch((caught: unknown) => caught);
    await held.reached;
    await other.doUpdate({ ...spec, replicas: 3 }, {});
    held.release();
    const outcome = await step;

    expect(MlscaleError.isInstance(outcome) ? outcome.code : outcome).toBe('Conflict');
    expect((outcome as MlscaleError).retryable).toBe(true);
    expect((outcome as Error).message).toMatch(/etag/);
    expect(recorded('shared').stored.record.desired.replicas).toBe(3);

    // Taken again from a fresh read, the steps carry out what was recorded last.
    const converged = await client.reconcile('shared');
    expect(converged?.state).toBe('InService');
    expect(converged?.replicas.desired).toBe(3);
    expect(recorded('shared').endpoint.deployedModels[0]!.dedicatedResources!.minReplicaCount).toBe(3);
    await client.delete('shared');
  });
});
