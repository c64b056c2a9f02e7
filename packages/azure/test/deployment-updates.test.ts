import { createMlscale, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowSumPredictor, ScoringError } from '../src/emulator/index.js';
import { azureml } from '../src/index.js';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';
import { bodyOf } from './wire-body.js';

let backend: EmulatedBackend;
/** Deployments whose predictions fail, to drive the rollout's error-rate rollback. */
const failingDeployments = new Set<string>();
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [2, 3] }] };

beforeAll(async () => {
  backend = await startEmulatedBackend({
    emulator: {
      predictor: (body, context) => {
        if (failingDeployments.has(context.deployment)) throw new ScoringError(500, 'model crashed');
        return rowSumPredictor(body, context);
      },
    },
  });
});

afterAll(() => backend.close());

/** The traffic maps of the endpoint PUTs since `start`. */
function trafficPuts(start: number, endpoint: string): unknown[] {
  return backend.emulator.requests
    .slice(start)
    .filter((item) => item.method === 'PUT' && item.path.endsWith(`/onlineEndpoints/${endpoint}`))
    .map((item) => bodyOf(item).properties.traffic);
}

describe('update', () => {
  it('rolls a new version out blue/green: traffic shifts by full endpoint PUTs and the old deployment goes', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('shop');
    await client.deploy({ name: 'shop-api', model: { name: 'shop', version: 1 } });
    await registerVersion('shop');
    const start = emulator.requests.length;
    const split = await client.update({
      name: 'shop-api',
      model: { name: 'shop', version: 1 },
      traffic: [
        { model: { name: 'shop', version: 1 }, weight: 90 },
        { model: { name: 'shop', version: 2 }, weight: 10 },
      ],
    });
    expect(split.state).toBe('InService');
    expect(split.traffic).toEqual([
      { version: 'shop-v1', weight: 90 },
      { version: 'shop-v2', weight: 10 },
    ]);
    expect(trafficPuts(start, 'shop-api')).toEqual([{ 'shop-v1': 90, 'shop-v2': 10 }]);
    // The weighted router is exact over 100 requests.
    const served = new Map<string, number>();
    for (let index = 0; index < 20; index++) {
      const answer = await client.predict('shop-api', request);
      served.set(answer.modelVersion ?? '', (served.get(answer.modelVersion ?? '') ?? 0) + 1);
    }
    expect(served.get('2')).toBe(2);

    // An update merges onto the recorded spec: the split goes only when it is removed.
    const switched = await client.update({
      name: 'shop-api',
      model: { name: 'shop', version: 2 },
      traffic: null,
    });
    expect(switched.traffic).toEqual([{ version: 'shop-v2', weight: 100 }]);
    const deployments = (switched.details as { deployments: { name: string; provisioningState: string }[] })
      .deployments;
    expect(
      deployments.filter((item) => item.provisioningState !== 'Deleting').map((item) => item.name),
    ).toEqual(['shop-v2']);
    const deletes = emulator.requests
      .slice(start)
      .filter((item) => item.method === 'DELETE' && item.path.includes('/deployments/'));
    expect(deletes.map((item) => item.path.split('/').at(-1))).toEqual(['shop-v1']);
  });

  it('steps traffic by the rollout, one step per reconcile, and rolls back when errors pass the limit', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('risky');
    await client.deploy({ name: 'risky-api', model: { name: 'risky', version: 1 } });
    await registerVersion('risky');
    failingDeployments.add('risky-v2');
    const start = emulator.requests.length;
    let done = false;
    const update = client
      .update({
        name: 'risky-api',
        model: { name: 'risky', version: 2 },
        rollout: { steps: [50, 100], stepSeconds: 2, maxErrorRate: 0.2, minRequests: 2 },
      })
      .catch((caught: unknown) => caught)
      .finally(() => {
        done = true;
      });
    // Real traffic during the step: half of it reaches the failing version.
    const failures: unknown[] = [];
    while (!done) {
      await client.predict('risky-api', request).catch((caught: unknown) => failures.push(caught));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const error = await update;
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as MlscaleError).message).toMatch(/rolled back at 50% traffic/);
    expect((error as MlscaleError).message).toMatch(/keeps serving spec/);
    expect(failures.length).toBeGreaterThan(0);
    // The step was observed across reconcile calls, then the serving spec's traffic came back.
    expect(trafficPuts(start, 'risky-api')).toEqual([
      { 'risky-v1': 50, 'risky-v2': 50 },
      { 'risky-v1': 100 },
    ]);
    const status = await client.reconcile('risky-api');
    expect(status?.state).toBe('InService');
    expect(status?.traffic).toEqual([{ version: 'risky-v1', weight: 100 }]);
    expect(status?.spec.model).toEqual({ name: 'risky', version: 1 });
    expect(status?.stateReason).toMatch(/refused.*rolled back at 50% traffic/);
    // Removing the new deployment is upkeep: a reconcile of the converged deployment does it.
    await client.reconcile('risky-api');
    expect(
      emulator.requests.some(
        (item) => item.method === 'DELETE' && item.path.endsWith('/deployments/risky-v2'),
      ),
    ).toBe(true);
  });

  it('keeps traffic on the old version when the new one fails to provision, and removes the failed one', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('steady');
    await client.deploy({ name: 'steady-api', model: { name: 'steady', version: 1 } });
    await registerVersion('steady');
    emulator.inject({
      kind: 'failProvisioning',
      deployment: 'steady-v2',
      code: 'ImageNotFound',
      message: 'manifest unknown',
    });
    const error = await client
      .update({ name: 'steady-api', model: { name: 'steady', version: 2 } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as MlscaleError).message).toContain('manifest unknown');
    expect((error as MlscaleError).message).toContain('Traffic stays on steady-v1 100%');
    const status = await client.get('steady-api');
    expect(status.state).toBe('InService');
    expect(status.traffic).toEqual([{ version: 'steady-v1', weight: 100 }]);
    expect(status.servingSpecHash).toBe(status.specHash);
    expect(status.stateReason).toMatch(/was refused/);
    // The refusal's restoring step started deleting the failed deployment (garbage collection).
    expect(
      emulator.requests.some(
        (item) => item.method === 'DELETE' && item.path.endsWith('/deployments/steady-v2'),
      ),
    ).toBe(true);
  });

  it('rolls a changed secret out in place, from the process that knows it', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('keyed');
    await client.deploy({
      name: 'keyed-api',
      model: { name: 'keyed', version: 1 },
      environment: { API_TOKEN: 'first-token-value' },
    });
    const start = emulator.requests.length;
    const rotated = await client.update({
      name: 'keyed-api',
      environment: { API_TOKEN: 'second-token-value' },
    });
    expect(rotated.state).toBe('InService');
    expect(emulator.inspection.containerEnvironment('keyed-api')?.API_TOKEN).toBe('second-token-value');
    const puts = emulator.requests
      .slice(start)
      .filter((item) => item.method === 'PUT' && item.path.includes('/deployments/'));
    expect(puts.map((item) => item.path.split('/').at(-1))).toEqual(['keyed-v1']);
    expect(JSON.stringify(rotated)).not.toContain('second-token-value');
  });

  it('rolls a new model out from another process, taking sealed values from the serving container', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('handed');
    await client.deploy({
      name: 'handed-api',
      model: { name: 'handed', version: 1 },
      environment: { API_TOKEN: 'handed-token-value', LOG_LEVEL: 'info' },
    });
    await registerVersion('handed');
    // A new process: it never saw the token, and the recorded spec holds it sealed.
    const other = createMlscale({
      backend: azureml(emulator.settings),
      polling: { minDelayMs: 10, maxDelayMs: 100 },
    });
    const updated = await other.update({ name: 'handed-api', model: { name: 'handed', version: 2 } });
    expect(updated.state).toBe('InService');
    expect(updated.traffic).toEqual([{ version: 'handed-v2', weight: 100 }]);
    expect(emulator.inspection.containerEnvironment('handed-api')).toMatchObject({
      API_TOKEN: 'handed-token-value',
      MLSCALE_MODEL_VERSION: '2',
    });
  });
});
