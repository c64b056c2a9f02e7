import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMlscale, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator, v2ServerPredictor } from '../src/emulator/index.js';
import { azureml } from '../src/index.js';

let server: Server;
let emulator: AzureMlEmulator;
const routes: string[] = [];

beforeAll(async () => {
  // A stand-in V2 model server on loopback: doubles every value, refuses an empty batch.
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      routes.push(`${request.method} ${request.url}`);
      const body = JSON.parse(text) as { inputs: { name: string; shape: number[]; data: number[] }[] };
      const input = body.inputs[0];
      if (!input || input.data.length === 0) {
        response
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'empty batch' }));
        return;
      }
      const outputs = [
        { name: 'doubled', datatype: 'FP32', shape: input.shape, data: input.data.map((value) => value * 2) },
      ];
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ model_name: 'digits', model_version: '1', outputs }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  emulator = await startAzureMlEmulator({ predictor: v2ServerPredictor(`http://127.0.0.1:${port}`) });
});

afterAll(async () => {
  await emulator.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('forwards scoring to a V2 model server on the route the deployment names', async () => {
  const client = createMlscale({
    backend: azureml(emulator.settings),
    polling: { minDelayMs: 20, maxDelayMs: 200 },
  });
  await client.models.register({
    name: 'digits',
    path: 'azureml://datastores/workspaceblobstore/paths/digits/model.onnx',
  });
  await client.deploy({ name: 'digits-api', model: { name: 'digits' } });
  const answer = await client.predict('digits-api', {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
  });
  expect(answer.outputs).toEqual([{ name: 'doubled', datatype: 'FP32', shape: [1, 3], data: [2, 4, 6] }]);
  expect(routes).toEqual(['POST /v2/models/digits/infer']);
  const refused = await client
    .predict('digits-api', { inputs: [{ name: 'x', datatype: 'FP32', shape: [0], data: [] }] })
    .catch((caught: unknown) => caught);
  expect(MlscaleError.hasCode(refused, 'InvalidSpec')).toBe(true);
  expect((refused as MlscaleError).message).toContain('empty batch');
});
