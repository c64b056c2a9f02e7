import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SageMakerSettings } from '../src/adapter/sagemaker-settings.js';
import { sagemaker } from '../src/index.js';
import { type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const v1 = (name: string) => ({ name, model: { uri: 's3://mlscale-models/mnist/model.tar.gz' } });
const v2 = (name: string) => ({ name, model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' } });

/** Another process: its own backend (no memory shared with the harness client's) on the same account. */
function otherProcess(settings: SageMakerSettings): MlscaleClient {
  return createMlscale({
    backend: sagemaker(settings),
    polling: { minDelayMs: 5, maxDelayMs: 20 },
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
  });
}

/**
 * Runs process B's reconcile of a converged deployment; right after B read the endpoint's tags (so B
 * goes on from a view in which v1 is all there is), `meanwhile` runs: process A at work on v2.
 */
async function reconcileFromStaleView(
  b: MlscaleClient,
  name: string,
  meanwhile: () => Promise<unknown>,
): Promise<void> {
  const { emulator } = harness;
  let fired = false;
  const stop = emulator.onRequest(async ({ operation }) => {
    if (operation !== 'ListTags' || fired) return;
    fired = true;
    await meanwhile();
  });
  emulator.resetCalls();
  try {
    const status = await b.reconcile(name);
    expect(status?.state).toBe('InService');
  } finally {
    stop();
  }
  expect(fired).toBe(true);
  // B did collect garbage after A's work: the collection had its chance to delete the new fleet.
  const operations = emulator.calls().map((call) => call.operation);
  expect(operations.lastIndexOf('ListEndpointConfigs')).toBeGreaterThan(
    operations.lastIndexOf('CreateEndpointConfig'),
  );
}

/** The endpoint config of v2 (the last one made for `name`) and whether it and its model exist. */
function newestFleet(name: string) {
  const { emulator } = harness;
  const config = String(
    emulator
      .requestsFor('CreateEndpointConfig')
      .filter((request) => String(request.input.EndpointConfigName).startsWith(`${name}-`))
      .at(-1)?.input.EndpointConfigName,
  );
  return {
    config,
    exists: () =>
      emulator.state.endpointConfigs.has(config) &&
      [...emulator.state.models.keys()].some((model) => model.startsWith(`${config}-m`)),
  };
}

describe('garbage collection while another process updates', () => {
  it('keeps the fleet another process recorded after this one read the endpoint', async () => {
    const name = 'gc-recorded';
    const a = harness.client;
    await a.deploy(v1(name));
    // B collects at once whatever no record wants: only the record read again protects A's fleet.
    const b = otherProcess({ ...harness.settings, garbageCollection: { minimumAgeSeconds: 0 } });
    // A's doUpdate: v2's models and config, then the record (no wait: A's waiter comes later).
    await reconcileFromStaleView(b, name, () => a.update(v2(name), { wait: false }));
    const fleet = newestFleet(name);
    expect(fleet.exists(), `${fleet.config} and its model survive B's reconcile`).toBe(true);

    const converged = await a.reconcile(name);
    expect(converged?.state).toBe('InService');
    expect(converged?.details?.endpointConfigName).toBe(fleet.config);
    // A's update went through with the fleet it made: none was made again.
    expect(
      harness.emulator
        .requestsFor('CreateEndpointConfig')
        .filter((request) => request.input.EndpointConfigName === fleet.config),
    ).toHaveLength(1);
    await b.close();
    await a.delete(name);
  });

  it('keeps a fleet made minutes ago or less, though no record wants it yet; collects it once older', async () => {
    const name = 'gc-young';
    const a = harness.client;
    await a.deploy(v1(name));
    const { garbageCollection: _immediate, ...defaults } = harness.settings;
    const b = otherProcess(defaults);
    // A made v2's models and config and has not recorded v2 yet (it stops right there).
    await reconcileFromStaleView(b, name, async () => {
      const controller = new AbortController();
      const stop = harness.emulator.onOperation((request) => {
        if (request.operation === 'CreateEndpointConfig') controller.abort();
      });
      await a.update(v2(name), { signal: controller.signal }).catch(() => undefined);
      stop();
    });
    const fleet = newestFleet(name);
    expect(fleet.exists(), `${fleet.config} and its model survive B's reconcile`).toBe(true);
    expect((await a.get(name)).spec.model).toMatchObject(v1(name).model);

    // A process that collects regardless of age stands in for a reconcile minutes later.
    const later = otherProcess({ ...harness.settings, garbageCollection: { minimumAgeSeconds: 0 } });
    await later.reconcile(name);
    expect(fleet.exists()).toBe(false);
    await later.close();
    await b.close();
    await a.delete(name);
  });
});
