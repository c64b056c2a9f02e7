import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { localGpu } from '@mlscale/local-gpu';
import { referenceMlp } from '@mlscale/local-gpu/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkMlscaleAnswers,
  checkMlscaleGrpcAnswers,
  inferenceCounters,
  referenceOutputs,
} from '../lib/answer-checks.mjs';

describe('answer checks against a real mlscale server on loopback', () => {
  const folder = mkdtempSync(join(tmpdir(), 'bench-answers-'));
  const modelPath = join(folder, 'model.onnx');
  let client: MlscaleClient;
  let baseUrl: string;
  let grpcUrl: string;
  let expected: { one: Float32Array; batch: Float32Array; batchRows: number };

  beforeAll(async () => {
    writeFileSync(modelPath, referenceMlp());
    client = createMlscale({ backend: localGpu({ root: join(folder, '.mlscale'), device: 'cpu' }) });
    const status = await client.deploy({
      name: 'model',
      model: { uri: modelPath },
      providerOptions: { local: { grpcPort: 0 } },
    });
    baseUrl = status.endpoint!.url;
    grpcUrl = (status.details as { grpc: { url: string } }).grpc.url;
    expected = {
      one: await referenceOutputs(modelPath, 1),
      batch: await referenceOutputs(modelPath, 4),
      batchRows: 4,
    };
  });

  afterAll(async () => {
    await client?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('accepts the server when JSON and binary answers equal onnxruntime in process', async () => {
    expect(expected.one).toHaveLength(10);
    expect(expected.batch).toHaveLength(40);
    await checkMlscaleAnswers(`${baseUrl}/v2/models/model/infer`, expected);
  });

  it('rejects the server when an answer is off by more than 1e-5', async () => {
    const wrong = {
      ...expected,
      one: expected.one.map((value, index) => (index === 3 ? value + 1e-4 : value)),
    };
    await expect(checkMlscaleAnswers(`${baseUrl}/v2/models/model/infer`, wrong)).rejects.toThrow(
      /mlscale serve, V2 JSON: output 3 is/,
    );
    const wrongBatch = {
      ...expected,
      batch: expected.batch.map((value, index) => (index === 39 ? value - 1e-3 : value)),
    };
    await expect(checkMlscaleAnswers(`${baseUrl}/v2/models/model/infer`, wrongBatch)).rejects.toThrow(
      /mlscale serve, V2 binary: output 39 is/,
    );
  });

  it('reads inference and execution counters from /metrics', async () => {
    const before = await inferenceCounters(baseUrl);
    await checkMlscaleAnswers(`${baseUrl}/v2/models/model/infer`, expected);
    const after = await inferenceCounters(baseUrl);
    expect(after.inferences - before.inferences).toBe(1 + 4);
    expect(after.executions - before.executions).toBe(2);
  });

  it('rejects a server that answers with an error status, quoting it', async () => {
    await expect(checkMlscaleAnswers(`${baseUrl}/v2/models/nothing/infer`, expected)).rejects.toThrow(
      /answered 404: .*unknown model 'nothing'/,
    );
  });

  it('accepts the gRPC port when raw and typed ModelInfer answers equal onnxruntime in process', async () => {
    expect(grpcUrl).toMatch(/^127\.0\.0\.1:\d+$/);
    const before = await inferenceCounters(baseUrl);
    await checkMlscaleGrpcAnswers(grpcUrl, expected);
    const after = await inferenceCounters(baseUrl);
    // raw 1 row, typed 1 row, raw 4 rows
    expect(after.inferences - before.inferences).toBe(1 + 1 + 4);
  });

  it('rejects the gRPC port when an answer is off by more than 1e-5, or the model is unknown', async () => {
    const wrong = {
      ...expected,
      one: expected.one.map((value, index) => (index === 7 ? value + 1e-4 : value)),
    };
    await expect(checkMlscaleGrpcAnswers(grpcUrl, wrong)).rejects.toThrow(
      /mlscale serve, gRPC raw: output 7 is/,
    );
    const wrongBatch = {
      ...expected,
      batch: expected.batch.map((value, index) => (index === 21 ? value + 1e-3 : value)),
    };
    await expect(checkMlscaleGrpcAnswers(grpcUrl, wrongBatch)).rejects.toThrow(
      /mlscale serve, gRPC raw batch: output 21 is/,
    );
    await expect(checkMlscaleGrpcAnswers(grpcUrl, expected, 'nothing')).rejects.toThrow(
      /gRPC raw: 5 NOT_FOUND: unknown model 'nothing'/,
    );
  });
});
