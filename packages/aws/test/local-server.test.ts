import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { localGpu, referenceMlp } from '@mlscale/local-gpu';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forwardingPredictor } from '../src/emulator/index.js';
import { type Harness, startHarness } from './emulator-harness.js';

// The emulator's InvokeEndpoint served by a real @mlscale/local-gpu ONNX server: predictions through
// the SageMaker adapter are the model's own.
let folder: string;
let local: MlscaleClient;
let harness: Harness;
const servers = new Map<string, string>();

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mlscale-aws-local-'));
  const modelPath = join(folder, 'reference.onnx');
  await writeFile(modelPath, referenceMlp());
  local = createMlscale({ backend: localGpu({ root: join(folder, 'state'), device: 'cpu' }) });
  const served = await local.deploy({ name: 'mnist', model: { uri: modelPath } });
  servers.set('mnist', new URL(served.endpoint!.url).origin);
  harness = await startHarness({
    predictor: forwardingPredictor((context) => {
      const url = servers.get(context.endpointName);
      if (!url) throw new Error(`no local server for endpoint ${context.endpointName}`);
      return url;
    }),
  });
}, 60_000);

afterAll(async () => {
  await harness?.close();
  await local?.close();
  await rm(folder, { recursive: true, force: true });
});

it('predicts through SageMaker the same answers the local ONNX server gives', async () => {
  await harness.client.deploy({ name: 'mnist', model: { uri: 's3://mlscale-models/mnist/model.tar.gz' } });
  const pixels = Array.from({ length: 2 * 784 }, (_, index) => ((index * 37) % 255) / 255);
  const request = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [2, 784], data: pixels }] };
  const viaSageMaker = await harness.client.predict('mnist', request);
  const direct = await local.predict('mnist', request);
  expect(viaSageMaker.outputs.map((output) => output.shape)).toEqual(
    direct.outputs.map((output) => output.shape),
  );
  expect(viaSageMaker.outputs).toEqual(direct.outputs);
  const probabilities = viaSageMaker.outputs[0]!.data as number[];
  expect(probabilities).toHaveLength(20);
  expect(Math.abs(probabilities.slice(0, 10).reduce((sum, value) => sum + value, 0) - 1)).toBeLessThan(1e-5);
});
