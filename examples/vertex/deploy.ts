/**
 * A scripted Vertex AI deployment, run offline against the Vertex emulator (gRPC, from the protos in
 * @google-cloud/aiplatform): upload a local model → deploy with autoscaling → predict → canary update →
 * metrics and logs → register a model version → a distributed spot training job → delete.
 *
 *   cd examples && npx tsx --tsconfig vertex/tsconfig.json vertex/deploy.ts
 *
 * Against real Vertex AI, drop the emulator and the `apiEndpoint`, `port`, `sslCreds` and
 * `storageEndpoint` settings: the project, region and bucket then come from the settings or
 * GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_REGION and MLSCALE_GCS_BUCKET, and credentials from Google's
 * application default credentials (`gcloud auth application-default login`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMlscale } from '@mlscale/core';
import { vertex } from '@mlscale/gcp';
import { startVertexEmulator } from '@mlscale/gcp/emulator';

export async function runVertexExample(log: (line: string) => void = console.log): Promise<void> {
  // Visible but short operations, so the progress events show Creating → InService.
  const emulator = await startVertexEmulator({
    delays: { operationMs: 200, deployExtraMs: 400, jobTransitionMs: 100, jobRunMs: 400 },
  });
  const directory = await mkdtemp(join(tmpdir(), 'mlscale-vertex-example-'));
  const client = createMlscale({
    backend: vertex({
      project: 'mlscale-demo',
      location: 'us-central1',
      apiEndpoint: emulator.apiEndpoint,
      port: emulator.port,
      sslCreds: emulator.sslCreds,
      storageEndpoint: emulator.storageEndpoint,
      bucket: 'mlscale-demo-models',
      polling: { minDelayMs: 100, maxDelayMs: 500 },
    }),
    polling: { minDelayMs: 100, maxDelayMs: 500 },
    onEvent: (event) => {
      if (event.type === 'operation-progress') log(`  … ${event.operation} ${event.target}: ${event.state}`);
      if (event.type === 'operation-succeeded')
        log(`  ✓ ${event.operation} ${event.target} (${event.durationMs} ms)`);
    },
  });
  try {
    log(
      `Vertex emulator at ${emulator.apiEndpoint}:${emulator.port}, Cloud Storage at ${emulator.storageEndpoint}`,
    );
    const modelPath = join(directory, 'mnist.onnx');
    await writeFile(modelPath, 'an ONNX model would be here');

    const deployed = await client.deploy({
      name: 'mnist',
      model: { uri: modelPath },
      instance: { type: 'n1-standard-4' },
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 8, target: { metric: 'cpuUtilization', value: 60 } },
      tags: { team: 'vision' },
    });
    log(
      `deployed ${deployed.name}: ${deployed.state}, ${deployed.replicas.ready} replicas, autoscaling ${deployed.autoscaling?.minReplicas}–${deployed.autoscaling?.maxReplicas}`,
    );
    log(`  predict URL ${deployed.endpoint?.url}`);

    // The emulator's default predictor answers a softmax of each instance.
    const prediction = await client.predict('mnist', {
      inputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 3], data: [0, 0, Math.log(2)] }],
    });
    for (const output of prediction.outputs)
      log(
        `prediction ${output.name}: ${JSON.stringify(output.data.map((value) => Number(value).toFixed(2)))}`,
      );

    const v2Path = join(directory, 'mnist-v2.onnx');
    await writeFile(v2Path, 'version 2 of the model');
    const updated = await client.update({
      name: 'mnist',
      model: { uri: v2Path },
      instance: { type: 'n1-standard-4' },
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 8, target: { metric: 'cpuUtilization', value: 60 } },
      tags: { team: 'vision' },
      rollout: { steps: [10, 100], stepSeconds: 0.5, maxErrorRate: 0.05 },
    });
    log(
      `canary update done: traffic ${updated.traffic.map((share) => `${share.weight}%`).join(', ')} on ${updated.traffic.length} deployed model(s)`,
    );

    for (let index = 0; index < 5; index++) {
      await client.predict('mnist', {
        inputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 2], data: [index, 1] }],
      });
    }
    const metrics = await client.metrics({
      target: { deployment: 'mnist' },
      names: ['invocations', 'latencyP99', 'replicas'],
      from: new Date(Date.now() - 120_000),
    });
    for (const series of metrics.series) {
      const values = series.values.filter((value) => value !== null);
      log(`metric ${series.name} (${series.stat}, ${series.unit}): ${values.length} bucket(s) with data`);
    }
    for await (const entry of client.logs({ deployment: 'mnist' }, { limit: 2 }))
      log(`log [${entry.source}] ${entry.message}`);

    const version = await client.models.register({
      name: 'mnist',
      path: v2Path,
      metadata: { accuracy: 0.98 },
    });
    log(`registered model ${version.name} version ${version.version} at ${version.uri}`);

    log('training a distributed spot job (preempted once by the emulator)…');
    emulator.setFaults({ spotPreemptions: 1 });
    await client.train(
      {
        name: 'mnist-train',
        image: 'us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-3.py310:latest',
        command: ['python', 'train.py'],
        hyperparameters: { epochs: 3, learning_rate: 0.3 },
        resources: { instanceType: 'n1-standard-8', instanceCount: 2, gpus: 1 },
        spot: { maxWaitSeconds: 7200 },
        maxRuntimeSeconds: 3600,
      },
      { wait: false },
    );
    for await (const entry of client.logs({ job: 'mnist-train' }, { follow: true }))
      log(`  [${entry.source}] ${entry.message}`);
    const job = await client.job('mnist-train');
    log(`job ${job.state} (${job.secondaryStatus}), model at ${job.modelUri}`);

    await client.delete('mnist');
    log('deleted mnist (deployed models, endpoint and uploaded models)');
  } finally {
    await client.close();
    await emulator.close();
    await rm(directory, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runVertexExample().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
