import { createMlscale, type LogEntry } from '@mlscale/core';
import { afterAll, describe, expect, it } from 'vitest';
import { localGpu } from '../src/index.js';
import { computeFeatureBaseline } from '../src/monitoring/index.js';
import { encodeMlpModel, normalFloat32, seededRandom } from '../src/onnx/index.js';
import { post, temporaryFolder, writeModel } from './helpers.js';

const folder = temporaryFolder();
/** A 4-feature, 3-class model: small enough that hundreds of requests take well under a second. */
const generator = seededRandom(11);
const random = () => generator.uniform();
const model = encodeMlpModel({
  inputSize: 4,
  hiddenActivation: 'relu',
  output: 'softmax',
  layers: [
    { weights: normalFloat32(generator, 4 * 8), bias: new Float32Array(8) },
    { weights: normalFloat32(generator, 8 * 3), bias: new Float32Array(3) },
  ],
});
const modelPath = writeModel(folder.path, 'small.onnx', model);
const backend = localGpu({
  root: folder.path,
  device: 'cpu',
  monitoring: { sampleIntervalMs: false, drift: { maximumRowsPerSecond: 100_000 } },
});
const client = createMlscale({ backend, polling: { minDelayMs: 20, maxDelayMs: 200 } });

afterAll(async () => {
  await client.close();
  folder.remove();
});

const body = (rows: number[][]) =>
  JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }],
  });

describe('local monitoring, wired through localGpu', () => {
  it('counts served requests and errors, and logs each request without its body', async () => {
    const status = await client.deploy({ name: 'watched-model', model: { uri: modelPath } });
    const url = `${status.endpoint!.url}/v2/models/watched-model/infer`;
    for (let index = 0; index < 25; index++) {
      const answer = await post(url, body([[index, 1, 2, 3]]));
      expect(answer.status).toBe(200);
    }
    for (let index = 0; index < 3; index++) {
      const answer = await post(
        url,
        '{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1]}]}',
      );
      expect(answer.status).toBe(400);
    }
    await backend.monitoring.tick();

    const metrics = await client.metrics({
      target: { deployment: 'watched-model' },
      names: ['invocations', 'errors4xx', 'errors5xx', 'latencyP99', 'replicas', 'gpuUtilization'],
      from: new Date(Date.now() - 120_000),
      periodSeconds: 60,
      stat: 'sum',
    });
    const total = (name: string) =>
      metrics.series
        .find((series) => series.name === name)!
        .values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    expect(total('invocations')).toBe(28);
    expect(total('errors4xx')).toBe(3);
    expect(total('errors5xx')).toBe(0);
    expect(metrics.absent?.map((entry) => entry.name)).toContain('gpuUtilization');

    const entries: LogEntry[] = [];
    for await (const entry of client.logs({ deployment: 'watched-model' }, { filter: '/infer' }))
      entries.push(entry);
    const requests = entries.filter((entry) => entry.source === 'request');
    expect(requests.length).toBe(28);
    expect(requests.filter((entry) => entry.fields?.status === 400).length).toBe(3);
    expect(JSON.stringify(entries)).not.toContain('"data"');
  });

  it('fires a drift alert on shifted inputs for a registered model with a training baseline', async () => {
    const trainingRows = Array.from({ length: 2000 }, () => [random(), random(), random(), random()]);
    await client.models.register({
      name: 'drift-model',
      path: modelPath,
      baseline: computeFeatureBaseline(trainingRows),
    });
    const status = await client.deploy({ name: 'drift-watched', model: { name: 'drift-model' } });
    const url = `${status.endpoint!.url}/v2/models/drift-watched/infer`;
    const fired: string[] = [];
    const stop = backend.monitoring.onFire((rule) => fired.push(rule.name));
    try {
      await client.alerts.put({
        name: 'input-drift',
        target: { deployment: 'drift-watched' },
        metric: 'drift',
        stat: 'maximum',
        comparator: '>',
        threshold: 0.25,
        forSeconds: 0,
        periodSeconds: 1,
      });
      // Unshifted traffic: no alert.
      for (let batch = 0; batch < 10; batch++) {
        const rows = Array.from({ length: 50 }, () => [random(), random(), random(), random()]);
        expect((await post(url, body(rows))).status).toBe(200);
      }
      await backend.monitoring.tick();
      expect(fired).toEqual([]);
      // The third feature shifted far outside its training range: the alert fires.
      for (let batch = 0; batch < 20; batch++) {
        const rows = Array.from({ length: 50 }, () => [random(), random(), random() + 3, random()]);
        expect((await post(url, body(rows))).status).toBe(200);
      }
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await backend.monitoring.tick();
      expect(fired).toEqual(['input-drift']);
    } finally {
      stop();
    }
  });
});
