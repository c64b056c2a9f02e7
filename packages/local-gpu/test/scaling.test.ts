import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import {
  delay,
  post,
  referenceInput,
  startLoad,
  temporaryFolder,
  until,
  v2Body,
  writeModel,
} from './helpers.js';

describe('scaling replicas', () => {
  const folder = temporaryFolder();
  let backend: LocalGpuBackend;
  let client: MlscaleClient;
  let modelPath: string;
  const body = v2Body(referenceInput(9), 1);

  beforeAll(() => {
    modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp());
    backend = localGpu({ root: folder.path, autoscaleIntervalMs: 100 });
    client = createMlscale({ backend, polling: { minDelayMs: 20, maxDelayMs: 100 } });
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  it('scales up and down under load without failing a request', async () => {
    const status = await client.deploy({ name: 'scaled', model: { uri: modelPath }, replicas: 1 });
    const load = startLoad(`${status.endpoint!.url}/v2/models/scaled/infer`, body, 6);
    await delay(200);
    await client.scale('scaled', 3);
    await until(
      () => backend.deployments.runtime('scaled')!.status().replicas.ready === 3,
      20_000,
      '3 ready replicas',
    );
    await delay(300);
    await client.scale('scaled', 1);
    await until(
      () => backend.deployments.runtime('scaled')!.status().replicas.ready === 1,
      20_000,
      '1 ready replica',
    );
    await delay(200);
    const statuses = await load.stop();
    expect(load.sent).toBeGreaterThan(20);
    expect([...statuses.keys()]).toEqual([200]);
    expect((await client.get('scaled')).replicas).toEqual({ desired: 1, ready: 1 });
    await client.delete('scaled');
  });

  it('scales to zero, and the first request waits for a replica instead of failing', async () => {
    const status = await client.deploy({
      name: 'to-zero',
      model: { uri: modelPath },
      replicas: 1,
      autoscaling: {
        minReplicas: 0,
        maxReplicas: 2,
        target: { metric: 'concurrentRequests', value: 4 },
        scaleInCooldownSeconds: 0,
        scaleOutCooldownSeconds: 0,
        scaleToZeroAfterSeconds: 1,
      },
    });
    const url = status.endpoint!.url;
    await until(
      () => backend.deployments.runtime('to-zero')!.status().replicas.desired === 0,
      20_000,
      'scale to zero',
    );
    await until(
      () => backend.deployments.runtime('to-zero')!.status().replicas.ready === 0,
      20_000,
      'replicas drained',
    );
    // Ready stays true at zero: requests are accepted and wait for a replica.
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const first = await post(`${url}/v2/models/to-zero/infer`, body);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).outputs[0].shape).toEqual([1, 10]);
    const current = await client.get('to-zero');
    expect(current.replicas.ready).toBeGreaterThanOrEqual(1);
    expect(current.details?.lastScaling).toMatchObject({ action: 'scaleOut', from: 0 });
    await client.delete('to-zero');
  });

  it('scaled to zero without autoscaling, it refuses requests at once instead of letting them time out', async () => {
    const status = await client.deploy({
      name: 'parked',
      model: { uri: modelPath },
      replicas: 1,
      batching: { requestTimeoutMs: 60_000 },
    });
    await client.scale('parked', 0);
    const refused = await post(`${status.endpoint!.url}/v2/models/parked/infer`, body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(JSON.parse(refused.text).error).toMatch(/scaled to 0 replicas without autoscaling from zero/);
    const viaClient = await client.predict('parked', JSON.parse(body)).then(
      () => undefined,
      (error: unknown) => error as { code: string; retryable: boolean },
    );
    expect(viaClient).toMatchObject({ code: 'Conflict', retryable: false });
    await client.scale('parked', 1);
    expect((await post(`${status.endpoint!.url}/v2/models/parked/infer`, body)).status).toBe(200);
    await client.delete('parked');
  });

  it('autoscales out on concurrent requests per replica', async () => {
    const status = await client.deploy({
      name: 'autoscaled',
      model: { uri: modelPath },
      replicas: 1,
      batching: { maxBatchSize: 1 },
      autoscaling: {
        minReplicas: 1,
        maxReplicas: 2,
        target: { metric: 'concurrentRequests', value: 1 },
        scaleInCooldownSeconds: 600,
        scaleOutCooldownSeconds: 0,
      },
    });
    const load = startLoad(`${status.endpoint!.url}/v2/models/autoscaled/infer`, body, 8);
    await until(
      () => backend.deployments.runtime('autoscaled')!.status().replicas.ready === 2,
      20_000,
      'scale out to 2',
    );
    const statuses = await load.stop();
    expect([...statuses.keys()]).toEqual([200]);
    expect((await client.get('autoscaled')).details?.lastScaling).toMatchObject({
      action: 'scaleOut',
      from: 1,
      to: 2,
    });
    await client.delete('autoscaled');
  });
});
