import { createMlscale, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureml } from '../src/index.js';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';
import { machineLearningApi as api, sendTo, workspacePathOf } from './emulator-https.js';

let backend: EmulatedBackend;

beforeAll(async () => {
  backend = await startEmulatedBackend();
});

afterAll(() => backend.close());

/** The statuses Azure answered one operation (`PATCH onlineEndpoints`) with since `start`. */
function answers(operation: string, start: number): number[] {
  return backend.emulator.inspection
    .requests()
    .slice(start)
    .filter((item) => item.operation === operation)
    .map((item) => item.status);
}

/** Another client (the portal, say) writes the endpoint as it is: it is Updating for a while. */
async function editElsewhere(name: string): Promise<void> {
  const { emulator } = backend;
  const path = `${workspacePathOf(emulator)}/onlineEndpoints/${name}${api}`;
  const { body: endpoint } = await sendTo(emulator, 'GET', path);
  emulator.inject({ kind: 'slow', extraMs: 400 });
  const written = await sendTo(emulator, 'PUT', path, {
    location: endpoint.location,
    kind: endpoint.kind,
    tags: endpoint.tags,
    properties: { ...endpoint.properties, description: 'edited in the portal' },
  });
  expect(written.body.properties.provisioningState).toBe('Updating');
}

describe('a write that meets an operation in progress on the endpoint', () => {
  it('is answered 409 RequestConflict, and the update is retried, not refused', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('busy');
    await client.deploy({ name: 'busy-api', model: { name: 'busy', version: 1 } });
    await editElsewhere('busy-api');

    const start = emulator.inspection.requests().length;
    const once = createMlscale({ backend: azureml(emulator.settings), retry: false });
    const conflict = await once.update({ name: 'busy-api', replicas: 2 }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(conflict, 'Conflict')).toBe(true);
    expect((conflict as MlscaleError).retryable).toBe(true);
    expect((conflict as MlscaleError).statusCode).toBe(409);
    expect(answers('PATCH onlineEndpoints', start)).toEqual([409]);

    // Retried until the other operation ends, then recorded and rolled out.
    const patient = createMlscale({
      backend: azureml(emulator.settings),
      retry: { maxAttempts: 30, baseDelayMs: 40, maxDelayMs: 40, random: () => 0.99 },
      polling: { minDelayMs: 10, maxDelayMs: 100 },
    });
    const scaled = await patient.update({ name: 'busy-api', replicas: 2 });
    expect(scaled.state).toBe('InService');
    expect(scaled.replicas.desired).toBe(2);
    expect(scaled.stateReason ?? '').not.toMatch(/refused/);
    const saves = answers('PATCH onlineEndpoints', start);
    expect(saves.slice(0, 2)).toEqual([409, 409]);
    expect(saves.at(-1)).toBe(202);
  });

  it('sends nothing to an endpoint that is Updating: the step reports progress', async () => {
    const { emulator, client } = backend;
    await editElsewhere('busy-api');
    const start = emulator.inspection.requests().length;
    const status = await client.reconcile('busy-api');
    expect(status?.state).toBe('InService');
    const writes = emulator.inspection
      .requests()
      .slice(start)
      .filter((item) => emulator.inspection.isMutating(item.operation));
    expect(writes).toEqual([]);
  });

  it('keeps a change going when the record write of a step meets one', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('busy');
    // Another client's operation holds the endpoint just as the step records that its deployment started.
    const stop = emulator.inspection.onRequest((request) => {
      if (request.operation !== 'PUT onlineEndpoints/deployments') return;
      emulator.inspection.injectFault('operationInProgress', 'PATCH onlineEndpoints', 1);
      stop();
    });
    const start = emulator.inspection.requests().length;
    const updated = await client.update({ name: 'busy-api', model: { name: 'busy', version: 2 } });
    expect(answers('PATCH onlineEndpoints', start)).toContain(409);
    expect(updated.state).toBe('InService');
    expect(updated.traffic).toEqual([{ version: 'busy-v2', weight: 100 }]);
    expect(updated.stateReason ?? '').not.toMatch(/refused/);
  });
});
