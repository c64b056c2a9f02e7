import { join } from 'node:path';
import { type BackendV1, createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsv } from '../../../../examples/train-classifier/dataset.js';
import { localGpu } from '../../src/local-gpu.js';
import { createLocalModelRegistry, type LocalModelRegistry } from '../../src/registry/index.js';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import { exampleJob, temporaryDirectory, writeExampleDataset } from '../training/training-fixtures.js';

describe('train → register → deploy → predict on the local backend', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;
  let registry: LocalModelRegistry;
  let client: MlscaleClient;
  let data: { train: string; test: string };

  beforeAll(async () => {
    directory = await temporaryDirectory('end-to-end');
    const root = join(directory.path, 'root');
    data = await writeExampleDataset(join(directory.path, 'data'), 21);
    training = createLocalTraining({ root, stopGraceSeconds: 2 });
    registry = createLocalModelRegistry({ root });
    const serving = localGpu({
      root,
      device: 'cpu',
      resolveRegistryModel: (reference) => registry.resolve(reference.name, reference.version),
    });
    // What the lead's wiring of localGpu() does: the training and registry groups beside serving.
    const backend: BackendV1 = {
      ...serving,
      capabilities: {
        ...serving.capabilities,
        training: true,
        modelRegistry: true,
        spot: true,
        distributed: true,
      },
      training,
      models: registry,
      async close() {
        await serving.close();
        await training.close();
      },
    };
    client = createMlscale({ backend, polling: { minDelayMs: 50, maxDelayMs: 250 } });
  });

  afterAll(async () => {
    await client.close();
    await directory.remove();
  });

  it('serves the trained model with the accuracy the job reported on held-out data', async () => {
    const job = await client.train(
      {
        name: 'blobs-classifier',
        ...exampleJob,
        inputs: { train: { uri: data.train }, test: { uri: data.test } },
        hyperparameters: { epochs: 8, seed: 2 },
        metricDefinitions: [{ name: 'test_accuracy', regex: '^test_accuracy=([0-9.]+)' }],
      },
      { timeoutMs: 90_000 },
    );
    expect(job.state).toBe('Completed');
    const reported = job.finalMetrics?.test_accuracy;
    expect(reported).toBeGreaterThan(0.8);

    const train = await readCsv(join(data.train, 'train.csv'));
    const version = await registry.registerJobModel(job, { name: 'blobs', baselineRows: train.features });
    expect(version.version).toBe(1);
    expect(version.lineage).toEqual({
      jobName: 'blobs-classifier',
      inputs: { train: data.train, test: data.test },
      hyperparameters: { epochs: 8, seed: 2 },
    });
    expect(version.metadata).toMatchObject({
      trainingJob: 'blobs-classifier',
      metrics: { test_accuracy: reported },
    });
    expect(version.baseline).toHaveLength(4);
    const meanOfFirst = train.features.reduce((total, row) => total + row[0]!, 0) / train.features.length;
    expect(version.baseline?.[0]?.mean).toBeCloseTo(meanOfFirst, 9);
    expect((await client.models.get('blobs')).sha256).toBe(version.sha256);

    await client.deploy(
      { name: 'blobs-service', model: { name: 'blobs', version: version.version } },
      { timeoutMs: 60_000 },
    );
    const test = await readCsv(join(data.test, 'test.csv'));
    const response = await client.predict('blobs-service', {
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [test.features.length, 4], data: test.features.flat() },
      ],
    });
    const probabilities = response.outputs.find((output) => output.name === 'probabilities');
    expect(probabilities?.shape).toEqual([test.features.length, 3]);
    const values = probabilities!.data as number[];
    let correct = 0;
    test.labels.forEach((label, row) => {
      const scores = values.slice(row * 3, row * 3 + 3);
      if (scores.indexOf(Math.max(...scores)) === label) correct++;
    });
    // float32 serving vs float64 training may differ on a row that sits on a class boundary.
    expect(Math.abs(correct / test.labels.length - reported!)).toBeLessThanOrEqual(
      1 / test.labels.length + 1e-9,
    );
  });
});
