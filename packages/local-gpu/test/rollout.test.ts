import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { encodeGraph, onnxElementType, referenceMlp } from '../src/onnx/index.js';
import { delay, post, referenceInput, startLoad, temporaryFolder, v2Body, writeModel } from './helpers.js';

/** The update's refusal: it rejects, saying the previous spec keeps serving. */
async function refusal(update: Promise<unknown>): Promise<MlscaleError> {
  const error = await update.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!MlscaleError.isInstance(error))
    throw new Error(`expected the update to be refused, got ${String(error)}`);
  expect(error.code).toBe('BackendFailure');
  expect(error.retryable).toBe(false);
  expect(error.message).toMatch(/keeps serving spec [0-9a-f]{12}; the change was not made/);
  return error;
}

/**
 * A valid ONNX model that fails at run time on every request: it reshapes any input to [3, 5]. It loads,
 * and it declares the reference's signature, so the signature gate lets it through and only its answers
 * (or their absence) can tell it apart.
 */
function brokenModel(): Uint8Array {
  return encodeGraph({
    name: 'broken',
    inputs: [{ name: 'input', elementType: onnxElementType.float, shape: ['N', 784] }],
    outputs: [{ name: 'probabilities', elementType: onnxElementType.float, shape: ['N', 10] }],
    nodes: [{ opType: 'Reshape', inputs: ['input', 'target_shape'], outputs: ['probabilities'] }],
    int64Initializers: [{ name: 'target_shape', dims: [2], values: [3, 5] }],
  });
}

describe('rollouts', () => {
  const folder = temporaryFolder();
  let backend: LocalGpuBackend;
  let client: MlscaleClient;
  const body = v2Body(referenceInput(21), 1);

  beforeAll(() => {
    backend = localGpu({ root: folder.path });
    client = createMlscale({ backend, polling: { minDelayMs: 20, maxDelayMs: 100 } });
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  it('a canary with a broken model rolls back by itself, and a good one is promoted, failing no request', async () => {
    const stablePath = writeModel(folder.path, 'v1.onnx', referenceMlp(7));
    const brokenPath = writeModel(folder.path, 'broken.onnx', brokenModel());
    const nextPath = writeModel(folder.path, 'v3.onnx', referenceMlp(8));
    const rollout = { steps: [25, 100], stepSeconds: 1, maxErrorRate: 0.05, minRequests: 5 };
    const base = { name: 'canary', replicas: 1, rollout };
    const status = await client.deploy({ ...base, model: { uri: stablePath } });
    const url = `${status.endpoint!.url}/v2/models/canary/infer`;
    const load = startLoad(url, body, 4);
    await delay(200);

    // A rollback is a refusal: the update rejects, and the record goes back to the spec that serves.
    const refused = await refusal(client.update({ ...base, model: { uri: brokenPath } }));
    expect(refused.message).toMatch(/rolled back version 2: error rate .* passed maxErrorRate 5%/);
    const rolledBack = await client.get('canary');
    expect(rolledBack.state).toBe('InService');
    expect(rolledBack.specHash).toBe(status.specHash);
    expect(rolledBack.servingSpecHash).toBe(status.specHash);
    expect(rolledBack.spec.model).toEqual({ uri: stablePath, format: 'onnx' });
    expect(rolledBack.stateReason).toMatch(
      /change to spec [0-9a-f]{12} was refused: rolled back version 2: error rate .* passed maxErrorRate 5%/,
    );
    expect(rolledBack.traffic).toEqual([{ version: '1', weight: 100 }]);
    expect(rolledBack.details?.lastRollout).toMatchObject({ version: '2', result: 'rolledBack' });
    // Judged at the canary step, or at the next when a slow machine sent fewer than minRequests there.
    expect([25, 100]).toContain((rolledBack.details!.lastRollout as { step: number }).step);
    const metrics = await (await fetch(`${status.endpoint!.url}/metrics`)).text();
    expect(metrics).toMatch(
      /nv_inference_request_failure\{model="canary",version="2",reason="inference_failed"\} [1-9]/,
    );

    const promoted = await client.update({ ...base, model: { uri: nextPath } });
    expect(promoted.state).toBe('InService');
    expect(promoted.traffic).toEqual([{ version: '3', weight: 100 }]);
    expect(promoted.details?.lastRollout).toMatchObject({ version: '3', result: 'promoted' });
    expect(promoted.spec.model).toEqual({ uri: nextPath, format: 'onnx' });
    await delay(200);
    const statuses = await load.stop();
    // Steady load through a rollback and a promotion: every request answered 200.
    expect([...statuses.keys()]).toEqual([200]);
    expect(load.sent).toBeGreaterThan(40);
    const after = await post(url, body);
    expect(JSON.parse(after.text).model_version).toBe('3');
    await client.delete('canary');
  });

  it('an alert that fires during a rollout rolls it back', async () => {
    const stablePath = writeModel(folder.path, 'alert-v1.onnx', referenceMlp(7));
    const nextPath = writeModel(folder.path, 'alert-v2.onnx', referenceMlp(9));
    // Long steps: without the alert this rollout would take a minute.
    const rollout = { steps: [50, 100], stepSeconds: 30, maxErrorRate: 0.5, minRequests: 1000 };
    const base = { name: 'alerted', replicas: 1, rollout };
    const status = await client.deploy({ ...base, model: { uri: stablePath } });
    const url = `${status.endpoint!.url}/v2/models/alerted/infer`;
    await client.alerts.put({
      name: 'client-errors',
      target: { deployment: 'alerted' },
      metric: 'errors4xx',
      stat: 'sum',
      comparator: '>',
      threshold: 2,
      forSeconds: 0,
      periodSeconds: 60,
    });
    const updating = refusal(client.update({ ...base, model: { uri: nextPath } }));
    await delay(300);
    for (let index = 0; index < 5; index++) expect((await post(url, '{"inputs": []}')).status).toBe(400);
    await backend.monitoring.tick();
    expect((await updating).message).toMatch(/rolled back version 2: alert 'client-errors' fired/);
    const rolledBack = await client.get('alerted');
    expect(rolledBack.state).toBe('InService');
    expect(rolledBack.servingSpecHash).toBe(status.specHash);
    expect(rolledBack.stateReason).toMatch(/rolled back version 2: alert 'client-errors' fired/);
    expect(rolledBack.traffic).toEqual([{ version: '1', weight: 100 }]);
    await client.alerts.delete('client-errors');
    await client.delete('alerted');
  });

  it('a canary whose model cannot load is rolled back before it gets traffic', async () => {
    const stablePath = writeModel(folder.path, 'good.onnx', referenceMlp(7));
    const status = await client.deploy({ name: 'unloadable', model: { uri: stablePath } });
    // Declared [N, 784] into a Gemm whose weights are [5, 10]: onnxruntime refuses it at load.
    const unloadable = encodeGraph({
      name: 'unloadable',
      inputs: [{ name: 'input', elementType: onnxElementType.float, shape: ['N', 784] }],
      outputs: [{ name: 'probabilities', elementType: onnxElementType.float, shape: ['N', 10] }],
      nodes: [{ opType: 'Gemm', inputs: ['input', 'W', 'B'], outputs: ['probabilities'] }],
      floatInitializers: [
        { name: 'W', dims: [5, 10], values: new Float32Array(50) },
        { name: 'B', dims: [10], values: new Float32Array(10) },
      ],
    });
    await refusal(
      client.update({
        name: 'unloadable',
        model: { uri: writeModel(folder.path, 'unloadable.onnx', unloadable) },
      }),
    );
    const result = await client.get('unloadable');
    expect(result.state).toBe('InService');
    expect(result.servingSpecHash).toBe(status.specHash);
    expect(result.stateReason).toMatch(/rolled back version 2: replicas failed to start/);
    expect(result.traffic).toEqual([{ version: '1', weight: 100 }]);
    const response = await post(`${status.endpoint!.url}/v2/models/unloadable/infer`, body);
    expect(response.status).toBe(200);
    await client.delete('unloadable');
  });
});
