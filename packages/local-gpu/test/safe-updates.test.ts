import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { encodeMlpModel, referenceMlp, referenceMlpLayers } from '../src/onnx/index.js';
import { delay, referenceInput, startLoad, temporaryFolder, v2Body, writeModel } from './helpers.js';

/**
 * Models that would break the reference's callers, one per way: an input old requests cannot satisfy,
 * an output re-shaped, an output renamed. Each is a real MLP onnxruntime runs.
 */
function incompatibleModels(folder: string) {
  const [first, ...rest] = referenceMlpLayers(7);
  const hidden = first!.bias.length;
  const mlp = (definition: Partial<Parameters<typeof encodeMlpModel>[0]>) =>
    encodeMlpModel({
      layers: referenceMlpLayers(7),
      inputSize: 784,
      hiddenActivation: 'relu',
      output: 'softmax',
      ...definition,
    });
  const last = rest.at(-1)!;
  const narrowLast = {
    weights: last.weights.filter((_, index) => index % 10 < 5),
    bias: last.bias.slice(0, 5),
  };
  return {
    'input [N, 100]': writeModel(
      folder,
      'wide-input.onnx',
      mlp({
        layers: [{ weights: new Float32Array(100 * hidden).fill(0.01), bias: first!.bias }, ...rest],
        inputSize: 100,
      }),
    ),
    'output [N, 5]': writeModel(
      folder,
      'narrow-output.onnx',
      mlp({ layers: [first!, ...rest.slice(0, -1), narrowLast] }),
    ),
    'output renamed': writeModel(folder, 'renamed-output.onnx', mlp({ outputName: 'scores' })),
  };
}

/** What the rollout says when it rolls each kind back (the gate could not tell). */
const rollbackReasons: Record<string, RegExp> = {
  'input [N, 100]':
    /error rate .* passed maxErrorRate 5%: version \d+ refused \d+ request\(s\) that version 1 answers \(first: 400: /,
  'output [N, 5]':
    /version \d+ answers with another output contract than version 1: output 'probabilities' is FP32 \[1, 5\] where it was FP32 \[1, 10\]/,
  'output renamed':
    /version \d+ answers with another output contract than version 1: output 'probabilities' is missing; it answers 'scores'/,
};

async function rejection(promise: Promise<unknown>): Promise<MlscaleError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!MlscaleError.isInstance(caught)) throw new Error(`expected a refusal, got ${String(caught)}`);
  return caught;
}

describe('safe model updates under steady load', () => {
  const folder = temporaryFolder();
  const body = v2Body(referenceInput(5), 1);
  const rollout = { steps: [10, 50, 100], stepSeconds: 1, minRequests: 5 };
  let backend: LocalGpuBackend;
  let client: MlscaleClient;
  let models: Record<string, string>;

  beforeAll(() => {
    backend = localGpu({ root: folder.path, device: 'cpu' });
    client = createMlscale({ backend, polling: { minDelayMs: 20, maxDelayMs: 100 } });
    models = incompatibleModels(folder.path);
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  it('refuses each update that would break callers before anything changes: no request fails', async () => {
    const stable = writeModel(folder.path, 'gated-v1.onnx', referenceMlp(7));
    const base = { name: 'gated', replicas: 1, rollout };
    const first = await client.deploy({ ...base, model: { uri: stable } });
    const load = startLoad(`${first.endpoint!.url}/v2/models/gated/infer`, body, 4);
    await delay(100);
    for (const [kind, path] of Object.entries(models)) {
      const refused = await rejection(client.update({ ...base, model: { uri: path } }));
      expect(refused.code, kind).toBe('InvalidSpec');
      expect(refused.message, kind).toMatch(/would break callers/);
      const unchanged = await client.get('gated');
      expect(unchanged.specHash, kind).toBe(first.specHash);
      expect(unchanged.traffic, kind).toEqual([{ version: '1', weight: 100 }]);
    }
    await delay(100);
    const statuses = await load.stop();
    expect([...statuses.keys()]).toEqual([200]);
    expect([...load.contracts.keys()]).toEqual(['probabilities FP32 [1, 10]']);
    await client.delete('gated');
  });

  it('where the gate cannot tell, the rollout rolls each back: no request fails, no answer changes shape', async () => {
    // A client over the same backend without its signature source: the gate has nothing to compare.
    const blind = createMlscale({
      backend: { ...backend, deployments: { ...backend.deployments, doResolveSignature: undefined } },
      polling: { minDelayMs: 20, maxDelayMs: 100 },
    });
    const stable = writeModel(folder.path, 'watched-v1.onnx', referenceMlp(7));
    const base = { name: 'watched', replicas: 1, rollout };
    const first = await blind.deploy({ ...base, model: { uri: stable } });
    const load = startLoad(`${first.endpoint!.url}/v2/models/watched/infer`, body, 4);
    await delay(100);
    for (const [kind, path] of Object.entries(models)) {
      const refused = await rejection(blind.update({ ...base, model: { uri: path } }));
      expect(refused.code, kind).toBe('BackendFailure');
      expect(refused.message, kind).toMatch(rollbackReasons[kind]!);
      const rolledBack = await blind.get('watched');
      expect(rolledBack.servingSpecHash, kind).toBe(first.specHash);
      expect(rolledBack.traffic, kind).toEqual([{ version: '1', weight: 100 }]);
      expect(rolledBack.stateReason, kind).toMatch(rollbackReasons[kind]!);
      expect(rolledBack.details?.lastRollout, kind).toMatchObject({ result: 'rolledBack' });
      expect((rolledBack.details!.lastRollout as { reason: string }).reason, kind).toMatch(
        rollbackReasons[kind]!,
      );
    }
    await delay(100);
    const statuses = await load.stop();
    expect([...statuses.keys()]).toEqual([200]);
    expect([...load.contracts.keys()]).toEqual(['probabilities FP32 [1, 10]']);
    expect(load.sent).toBeGreaterThan(40);
    await blind.delete('watched');
  });
});
