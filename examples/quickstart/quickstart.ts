/**
 * mlscale in one file: write a small ONNX model, deploy it on this machine, call it through the client
 * and over plain HTTP (KServe V2), scale it, read its metrics, and clean up.
 *
 * Run: cd examples && npx tsx --tsconfig quickstart/tsconfig.json quickstart/quickstart.ts
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMlscale } from '@mlscale/core';
import { encodeMlpModel, localGpu, seededRandom } from '@mlscale/local-gpu';

export async function runQuickstart(log: (line: string) => void = console.log): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'mlscale-quickstart-'));
  // A 3-feature, 2-class classifier with fixed random weights (any ONNX file works the same way).
  const random = seededRandom(1);
  const weights = (count: number) => Float32Array.from({ length: count }, () => random.normal());
  const modelPath = join(folder, 'model.onnx');
  await writeFile(
    modelPath,
    encodeMlpModel({
      inputSize: 3,
      hiddenActivation: 'relu',
      output: 'softmax',
      layers: [
        { weights: weights(3 * 8), bias: new Float32Array(8) },
        { weights: weights(8 * 2), bias: new Float32Array(2) },
      ],
    }),
  );

  const mlscale = createMlscale({ backend: localGpu({ root: join(folder, '.mlscale') }) });
  try {
    const deployed = await mlscale.deploy({ name: 'quickstart', model: { uri: modelPath }, replicas: 1 });
    log(
      `deployed ${deployed.name}: ${deployed.state} at ${deployed.endpoint?.url} on ${deployed.device?.used}`,
    );

    const answer = await mlscale.predict('quickstart', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: [0.1, 0.2, 0.3, -1, 0, 1] }],
    });
    const probabilities = answer.outputs[0]!.data as number[];
    log(`probabilities: ${probabilities.map((value) => value.toFixed(3)).join(', ')}`);

    // The same server answers any V2 client over HTTP.
    const response = await fetch(`${deployed.endpoint!.url}/v2/models/quickstart/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.2, 0.3] }],
      }),
    });
    const body = (await response.json()) as { outputs: { data: number[] }[] };
    log(
      `HTTP ${response.status}: ${JSON.stringify(body.outputs[0]!.data.map((value) => Number(value.toFixed(3))))}`,
    );

    const scaled = await mlscale.scale('quickstart', 2);
    log(`scaled to ${scaled.replicas.ready} replicas`);

    const metrics = await mlscale.metrics({
      target: { deployment: 'quickstart' },
      names: ['invocations'],
      stat: 'sum',
      periodSeconds: 300,
    });
    const invocations = metrics.series[0]!.values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    log(`invocations so far: ${invocations}`);

    await mlscale.delete('quickstart');
    log('deleted quickstart');
  } finally {
    await mlscale.close();
    await rm(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runQuickstart();
