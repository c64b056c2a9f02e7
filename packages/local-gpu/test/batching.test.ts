import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import {
  inProcessReference,
  maxDifference,
  post,
  referenceInput,
  temporaryFolder,
  v2Body,
  writeModel,
} from './helpers.js';

/** Sums a Prometheus histogram's `_count` or a counter for one model. */
function metricValue(text: string, name: string, model: string): number {
  const pattern = new RegExp(`^${name}\\{model="${model}",version="1"\\} (\\d+(?:\\.\\d+)?)$`, 'm');
  return Number(pattern.exec(text)?.[1] ?? Number.NaN);
}

describe('dynamic batching and the bounded queue', () => {
  const folder = temporaryFolder();
  let client: MlscaleClient;
  let modelPath: string;

  beforeAll(() => {
    modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp());
    client = createMlscale({
      backend: localGpu({ root: folder.path }),
      polling: { minDelayMs: 20, maxDelayMs: 100 },
    });
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  it('merges concurrent requests into batches and never mixes answers between them', async () => {
    const status = await client.deploy({
      name: 'batched',
      model: { uri: modelPath },
      batching: { maxBatchSize: 16, maxQueueDelayMs: 20 },
    });
    const url = status.endpoint!.url;
    const reference = await inProcessReference();
    // Each request has its own input (1 or 2 rows); each answer must be its own.
    const inputs = Array.from({ length: 48 }, (_, index) => ({
      rows: 1 + (index % 2),
      data: referenceInput(100 + index, 1 + (index % 2)),
    }));
    const responses = await Promise.all(
      inputs.map((input, index) =>
        post(`${url}/v2/models/batched/infer`, v2Body(input.data, input.rows, { id: `request-${index}` })),
      ),
    );
    for (const [index, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const body = JSON.parse(response.text);
      expect(body.id).toBe(`request-${index}`);
      expect(body.outputs[0].shape).toEqual([inputs[index]!.rows, 10]);
      expect(
        maxDifference(body.outputs[0].data, await reference(inputs[index]!.data, inputs[index]!.rows)),
      ).toBeLessThan(1e-5);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const executions = metricValue(metrics, 'nv_inference_exec_count', 'batched');
    const inferences = metricValue(metrics, 'nv_inference_count', 'batched');
    expect(inferences).toBe(72);
    // Batching happened: fewer executions than requests, and the batch-size histogram shows merged batches.
    expect(executions).toBeLessThan(48);
    // Requests carry 1 or 2 rows, so a batch of more than 2 rows merged requests.
    const upToTwoRows = Number(
      /mlscale_batch_size_bucket\{le="2",model="batched",version="1"\} (\d+)/.exec(metrics)?.[1],
    );
    expect(metricValue(metrics, 'mlscale_batch_size_count', 'batched')).toBe(executions);
    expect(upToTwoRows).toBeLessThan(executions);
    await client.delete('batched');
  });

  it('at zero replicas with no autoscaling to start one, answers 503 at once and counts it', async () => {
    const status = await client.deploy({
      name: 'queued',
      model: { uri: modelPath },
      replicas: 0,
      batching: { requestTimeoutMs: 60_000 },
    });
    const url = status.endpoint!.url;
    const body = v2Body(referenceInput(1), 1);
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => post(`${url}/v2/models/queued/infer`, body)),
    );
    for (const response of answers) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBeNull();
      expect(JSON.parse(response.text).error).toMatch(/no replica serves this model and none is starting/);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'nv_inference_request_failure{model="queued",version="1",reason="no_replicas"} 3',
    );
    // Health never waits on inference.
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    await client.delete('queued');
  });
});
