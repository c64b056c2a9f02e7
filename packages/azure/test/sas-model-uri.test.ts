import { createMlscale, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureml } from '../src/index.js';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';
import { bodyOf } from './wire-body.js';

let backend: EmulatedBackend;

beforeAll(async () => {
  backend = await startEmulatedBackend();
});

afterAll(() => backend.close());

/** A blob URL Azure can read with its SAS token; the record holds it only sealed. */
function sasUrl(file: string, signature: string): string {
  return `https://models.blob.core.windows.net/artifacts/${file}?sv=2022-11-02&sr=b&se=2030-01-01&sp=r&sig=${signature}`;
}

/** A client over a backend of its own: another process, which has seen no secret values. */
function anotherProcess() {
  return createMlscale({
    backend: azureml(backend.emulator.settings),
    polling: { minDelayMs: 10, maxDelayMs: 100 },
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
}

/** The modelUri of each model version registered since `start`. */
function registeredUris(start: number): string[] {
  return backend
    .requestsFrom(start)
    .filter((item) => item.method === 'PUT' && /\/models\/[^/]+\/versions\//.test(item.path))
    .map((item) => bodyOf(item).properties.modelUri);
}

/** Every request body since `start` but the model versions' `modelUri` (where Azure needs the URL). */
function recordedText(start: number): string {
  return JSON.stringify(
    backend
      .requestsFrom(start)
      .map((item) =>
        JSON.stringify(item.body ?? null, (field, value: unknown) =>
          field === 'modelUri' ? '[url]' : value,
        ),
      ),
  );
}

describe('a model artifact at an https URL with a SAS signature', () => {
  it('registers the URL itself, records and tags it only sealed, and carries on from another process', async () => {
    const { emulator, client } = backend;
    const first = sasUrl('model-v1.onnx', 'FIRSTSIGNATUREvalue0123');
    const start = emulator.requests.length;
    const deployed = await client.deploy({ name: 'sas-api', model: { uri: first } });
    expect(deployed.state).toBe('InService');
    expect(registeredUris(start)).toEqual([first]);
    expect(recordedText(start)).not.toContain('FIRSTSIGNATUREvalue0123');
    expect(JSON.stringify(deployed)).not.toContain('FIRSTSIGNATUREvalue0123');
    expect(deployed.spec.model).toMatchObject({ uri: expect.stringMatching(/^sealed:hmac-sha256:/) });

    // A new version that another process must carry on: Azure throttles its deployment PUT, after the
    // model version is registered. That process finds the URL behind the seal in the registered version.
    const second = sasUrl('model-v2.onnx', 'SECONDSIGNATUREvalue456');
    const update = emulator.requests.length;
    emulator.inspection.injectFault('throttling', 'PUT onlineEndpoints/deployments', 1, {
      retryAfterSeconds: 0,
    });
    const interrupted = await createMlscale({ backend: azureml(emulator.settings), retry: false })
      .update({ name: 'sas-api', model: { uri: second } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(interrupted, 'Throttled')).toBe(true);
    expect(registeredUris(update)).toEqual([second]);
    const carried = await anotherProcess().reconcile('sas-api');
    expect(carried?.state).toBe('InService');
    expect(carried?.traffic).toEqual([{ version: 'sas-api-v2', weight: 100 }]);
    // Found again by its URL: not registered twice.
    expect(registeredUris(update)).toEqual([second]);
    expect(recordedText(start)).not.toContain('SECONDSIGNATUREvalue456');
  });

  it('blocks a process that knows the URL neither from memory nor from a registered version', async () => {
    const { emulator } = backend;
    const startedBy = createMlscale({
      backend: azureml(emulator.settings),
      retry: false,
      polling: { minDelayMs: 10, maxDelayMs: 100 },
    });
    await startedBy.deploy({ name: 'sas-blocked', model: { uri: sasUrl('a.onnx', 'ASIGNATUREvalue0000') } });
    // The update is recorded, then Azure throttles the registration of its model version.
    emulator.inspection.injectFault('throttling', 'PUT models/versions', 1, { retryAfterSeconds: 0 });
    const third = sasUrl('b.onnx', 'BSIGNATUREvalue11111');
    const throttled = await startedBy
      .update({ name: 'sas-blocked', model: { uri: third } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(throttled, 'Throttled')).toBe(true);

    const blocked = await anotherProcess()
      .reconcile('sas-blocked')
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(blocked, 'InvalidSpec')).toBe(true);
    expect((blocked as MlscaleError).message).toContain('model.uri');
    // The process that was given the URL finishes the change.
    const start = emulator.requests.length;
    const finished = await startedBy.reconcile('sas-blocked');
    expect(finished?.traffic).toEqual([{ version: 'sas-blocked-v2', weight: 100 }]);
    expect(registeredUris(start)).toEqual([third]);
  });
});
