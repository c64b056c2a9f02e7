import { createMlscale, MlscaleError } from '@mlscale/core';
import { recordFromTags } from '@mlscale/core/provider-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureml } from '../src/index.js';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';
import { bodyOf } from './wire-body.js';

let backend: EmulatedBackend;
/** A plain secret value: no pattern gives it away, only knowing it does. */
const password = 'correct-horse-battery-staple';

beforeAll(async () => {
  // Operations settle by the next request, so a failing deployment PUT fails at its first status poll.
  backend = await startEmulatedBackend({ emulator: { delays: { provisioningMs: 0, deletionMs: 0 } } });
});

afterAll(() => backend.close());

/** The failure kept in the record, as the last write of the endpoint's tags holds it. */
function recordedFailure(name: string): string | undefined {
  const saves = backend.emulator.requests.filter(
    (item) => item.method === 'PATCH' && item.path.endsWith(`/onlineEndpoints/${name}`),
  );
  return recordFromTags(bodyOf(saves.at(-1)).tags, 'mlscale-record-')?.failure?.message;
}

describe('secret values quoted by Azure', () => {
  it('are masked in the reason a refusal is recorded with', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('guarded');
    await client.deploy({
      name: 'guarded-api',
      model: { name: 'guarded', version: 1 },
      environment: { DB_PASSWORD: password },
    });
    await registerVersion('guarded');
    // Azure fails the operation at once, quoting what the container was given.
    emulator.inject({
      kind: 'failProvisioning',
      deployment: 'guarded-v2',
      code: 'ResourceNotReady',
      message: `the container could not log in to the database with password ${password}`,
    });
    const error = await client
      .update({ name: 'guarded-api', model: { name: 'guarded', version: 2 } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    const status = await client.get('guarded-api');
    expect(status.stateReason).toMatch(/was refused/);
    expect(status.stateReason).toContain('with password [redacted]');
    expect(recordedFailure('guarded-api')).toContain('with password [redacted]');
    expect(emulator.inspection.dump()).not.toContain(password);
  });

  it('are masked in a failed provisioning read by a process that did not deploy them', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('watched');
    await client.deploy({
      name: 'watched-api',
      model: { name: 'watched', version: 1 },
      environment: { DB_PASSWORD: password },
    });
    await registerVersion('watched');
    // The container fails after it started (its log quotes the secret), once the rollout is recorded.
    emulator.inject({ kind: 'slow', extraMs: 100 });
    emulator.inject({
      kind: 'failProvisioning',
      deployment: 'watched-v2',
      message: `login failed for password ${password}`,
    });
    await client.update({ name: 'watched-api', model: { name: 'watched', version: 2 } }, { wait: false });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const error = await createMlscale({ backend: azureml(emulator.settings), retry: false })
      .reconcile('watched-api')
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect(recordedFailure('watched-api')).toContain('login failed for password [redacted]');
  });
});
