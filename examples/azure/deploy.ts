/**
 * A scripted Azure Machine Learning deployment, run offline against the ARM emulator:
 * register → deploy with autoscaling → predict → blue/green update (90/10, then all) → metrics and
 * logs → distributed training job → delete.
 *
 *   cd examples && npx tsx --tsconfig azure/tsconfig.json azure/deploy.ts
 *
 * Against real Azure, drop the emulator and its settings: the ids then come from the settings or
 * AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZUREML_WORKSPACE_NAME (and AZUREML_COMPUTE for jobs),
 * and the credential is DefaultAzureCredential (az login, a managed identity, or AZURE_CLIENT_ID/...).
 */
import { pathToFileURL } from 'node:url';
import { azureml } from '@mlscale/azure';
import { startAzureMlEmulator } from '@mlscale/azure/emulator';
import { createMlscale } from '@mlscale/core';

export async function runAzureExample(log: (line: string) => void = console.log): Promise<void> {
  // Visible but short state transitions, so the progress events show Creating → InService.
  const emulator = await startAzureMlEmulator({
    delays: { provisioningMs: 400, deletionMs: 200, jobStepMs: 100 },
  });
  const client = createMlscale({
    backend: azureml({ ...emulator.settings, compute: 'gpu-cluster', pollIntervalMs: 100 }),
    polling: { minDelayMs: 100, maxDelayMs: 500 },
    onEvent: (event) => {
      if (event.type === 'operation-succeeded')
        log(`  ✓ ${event.operation} ${event.target} (${event.durationMs} ms)`);
    },
  });
  try {
    log(`Azure ML emulator at ${emulator.url}`);
    for (const version of [1, 2]) {
      await client.models.register({
        name: 'mnist',
        path: `azureml://datastores/workspaceblobstore/paths/models/mnist/${version}/model.onnx`,
        metadata: { accuracy: version === 1 ? 0.97 : 0.98 },
      });
    }
    const deployed = await client.deploy({
      name: 'mnist-api',
      model: { name: 'mnist', version: 1 },
      instance: { type: 'Standard_F4s_v2' },
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 6, target: { metric: 'cpuUtilization', value: 70 } },
    });
    log(
      `deployed ${deployed.name}: ${deployed.state}, ${deployed.replicas.ready} instances, autoscaling ${deployed.autoscaling?.minReplicas}–${deployed.autoscaling?.maxReplicas}`,
    );
    log(`  scoring URI ${deployed.endpoint?.url}`);

    const prediction = await client.predict('mnist-api', {
      inputs: [
        { name: 'pixels', datatype: 'FP32', shape: [2, 4], data: [0.1, 0.9, 0.3, 0.2, 0.7, 0.1, 0.1, 0.05] },
      ],
    });
    for (const output of prediction.outputs) log(`prediction ${output.name}: ${JSON.stringify(output.data)}`);

    const canary = await client.update({
      name: 'mnist-api',
      model: { name: 'mnist', version: 1 },
      replicas: 2,
      traffic: [
        { model: { name: 'mnist', version: 1 }, weight: 90 },
        { model: { name: 'mnist', version: 2 }, weight: 10 },
      ],
    });
    log(`canary: ${canary.traffic.map((share) => `${share.version} ${share.weight}%`).join(', ')}`);
    const switched = await client.update({
      name: 'mnist-api',
      model: { name: 'mnist', version: 2 },
      replicas: 2,
    });
    log(`switched: ${switched.traffic.map((share) => `${share.version} ${share.weight}%`).join(', ')}`);

    for (let index = 0; index < 5; index++) {
      await client.predict('mnist-api', {
        inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 2], data: [index, 1] }],
      });
    }
    const metrics = await client.metrics({
      target: { deployment: 'mnist-api' },
      names: ['invocations'],
      stat: 'sum',
    });
    const invocations = metrics.series[0]?.values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    log(`invocations in the last hour: ${invocations}`);
    let lines = 0;
    for await (const _entry of client.logs({ deployment: 'mnist-api' }, { filter: 'POST /score' }))
      lines += 1;
    log(`scoring log lines: ${lines}`);

    const job = await client.train({
      name: 'mnist-train',
      image: 'mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1:1',
      command: ['python', 'train.py'],
      inputs: {
        training: { uri: 'azureml://datastores/workspaceblobstore/paths/data/mnist/', mode: 'link' },
      },
      resources: { instanceCount: 2, instanceType: 'Standard_NC6s_v3', gpus: 1 },
      distribution: { processesPerNode: 1, nodes: 2 },
    });
    log(`job ${job.state} (${job.secondaryStatus})`);

    await client.delete('mnist-api');
    log('deleted mnist-api (endpoint, deployments and autoscale settings)');
  } finally {
    await client.close();
    await emulator.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runAzureExample().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
