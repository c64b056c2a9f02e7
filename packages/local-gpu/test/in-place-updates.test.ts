import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import { post, referenceInput, startLoad, temporaryFolder, v2Body, writeModel } from './helpers.js';

describe('updates that apply in place', () => {
  const folder = temporaryFolder();
  let backend: LocalGpuBackend;
  let client: MlscaleClient;
  let modelPath: string;
  const body = v2Body(referenceInput(13), 1);
  // Steps this long would hold the test for minutes if a change started a rollout.
  const slowRollout = { steps: [50, 100], stepSeconds: 120 };

  beforeAll(() => {
    modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp(7));
    backend = localGpu({ root: folder.path, device: 'cpu' });
    client = createMlscale({ backend, polling: { minDelayMs: 10, maxDelayMs: 100 } });
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  /** The version labels the runtime serves, sampled every few milliseconds while `run` runs. */
  async function versionsDuring<T>(
    name: string,
    run: () => Promise<T>,
  ): Promise<{ result: T; seen: string[] }> {
    const seen = new Set<string>();
    const sample = () => {
      for (const label of backend.deployments.runtime(name)?.versions() ?? []) seen.add(label);
    };
    const timer = setInterval(sample, 2);
    try {
      const result = await run();
      sample();
      return { result, seen: [...seen] };
    } finally {
      clearInterval(timer);
    }
  }

  it('changes replicas, autoscaling and batching without a rollout: version 1 serves throughout', async () => {
    const deployed = await client.deploy({
      name: 'in-place',
      model: { uri: modelPath },
      replicas: 1,
      rollout: slowRollout,
    });
    const load = startLoad(`${deployed.endpoint!.url}/v2/models/in-place/infer`, body, 2);
    const scaled = await versionsDuring('in-place', () => client.update({ name: 'in-place', replicas: 2 }));
    expect(scaled.seen).toEqual(['1']);
    expect(scaled.result).toMatchObject({ state: 'InService', replicas: { desired: 2, ready: 2 } });
    expect(scaled.result.traffic).toEqual([{ version: '1', weight: 100 }]);
    expect(scaled.result.servingSpecHash).toBe(scaled.result.specHash);

    const policy = {
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'concurrentRequests' as const, value: 8 },
    };
    const autoscaled = await versionsDuring('in-place', () => client.autoscale('in-place', policy));
    expect(autoscaled.seen).toEqual(['1']);
    expect(autoscaled.result.autoscaling).toMatchObject(policy);

    const batched = await versionsDuring('in-place', () =>
      client.update({ name: 'in-place', batching: { maxBatchSize: 4, maxQueueDelayMs: 1 } }),
    );
    expect(batched.seen).toEqual(['1']);
    expect(batched.result.details?.lastRollout).toBeUndefined();
    expect(batched.result.spec.batching).toMatchObject({ maxBatchSize: 4 });

    const statuses = await load.stop();
    expect([...statuses.keys()]).toEqual([200]);
    const answer = await post(`${deployed.endpoint!.url}/v2/models/in-place/infer`, body);
    expect(JSON.parse(answer.text).model_version).toBe('1');
    await client.delete('in-place');
  });

  it('rolls out only when the model changes: the new one serves as version 2', async () => {
    await client.deploy({ name: 'new-model', model: { uri: modelPath }, replicas: 2 });
    const nextPath = writeModel(folder.path, 'reference-v2.onnx', referenceMlp(8));
    const updated = await client.update({
      name: 'new-model',
      model: { uri: nextPath },
      rollout: { steps: [100], stepSeconds: 0 },
    });
    expect(updated.state).toBe('InService');
    expect(updated.traffic).toEqual([{ version: '2', weight: 100 }]);
    expect(updated.replicas).toEqual({ desired: 2, ready: 2 });
    expect(updated.details?.lastRollout).toMatchObject({ version: '2', result: 'promoted' });
    await client.delete('new-model');
  });

  it('refuses to change the server settings on update, before recording anything', async () => {
    await client.deploy({ name: 'fixed-port', model: { uri: modelPath } });
    const before = await client.get('fixed-port');
    const error = await client
      .update({ name: 'fixed-port', providerOptions: { local: { maxBodyBytes: 4096 } } })
      .catch((caught: unknown) => caught as Error);
    expect((error as Error).message).toMatch(
      /providerOptions\.local\.maxBodyBytes of 'fixed-port' cannot change/,
    );
    expect((await client.get('fixed-port')).specHash).toBe(before.specHash);
    await client.delete('fixed-port');
  });
});
