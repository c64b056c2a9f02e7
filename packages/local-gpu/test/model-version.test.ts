import { batchingSchema } from '@mlscale/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/deployments/model-loader.js';
import { createModelVersion } from '../src/deployments/model-version.js';
import { referenceMlp } from '../src/onnx/index.js';
import { onnxruntimeEntryPath } from '../src/runtime/onnxruntime-location.js';
import { createServingMetrics } from '../src/server/serving-metrics.js';
import { referenceInput, temporaryFolder, writeModel } from './helpers.js';

describe('a model version', () => {
  const folder = temporaryFolder();
  afterAll(() => folder.remove());

  it('replaces a replica whose worker crashes, and keeps serving', async () => {
    const model = await loadModel(
      { uri: writeModel(folder.path, 'm.onnx', referenceMlp()), format: 'onnx' },
      { baseDirectory: folder.path },
    );
    const crashes: string[] = [];
    const version = createModelVersion({
      label: '1',
      model,
      batching: batchingSchema.parse({}),
      device: { requested: 'cpu', used: 'cpu', executionProviders: ['cpu'] },
      intraOpThreads: 1,
      ortPath: onnxruntimeEntryPath(),
      metrics: createServingMetrics('crashy'),
      onDemandWithoutReplicas: () => true,
      onReplicasChanged: () => {},
      onReplicaCrashed: (id, reason) => crashes.push(`${id}: ${reason}`),
    });
    try {
      await version.setReplicas(2);
      const [first] = version.replicas();
      const crashedId = first!.id;
      first!.simulateCrash(70);
      await expect.poll(() => crashes, { timeout: 10_000 }).toEqual([`${crashedId}: exited with code 70`]);
      await expect.poll(() => version.replicas().length, { timeout: 20_000 }).toBe(2);
      expect(version.replicas().map((replica) => replica.id)).not.toContain(crashedId);
      expect(version.desiredReplicas).toBe(2);
      const result = await version.infer({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: referenceInput(1) }],
      });
      expect(result.outputs[0]!.shape).toEqual([1, 10]);
    } finally {
      await version.close();
    }
  });
});
