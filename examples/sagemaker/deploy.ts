/**
 * A scripted SageMaker deployment, run offline against the AWS emulator:
 * deploy with autoscaling → predict → canary update → metrics and logs → train → delete.
 *
 *   cd examples && npx tsx --tsconfig sagemaker/tsconfig.json sagemaker/deploy.ts
 *
 * Against real AWS, drop the emulator and the `endpoint` and `credentials` settings: the region,
 * role, image and bucket then come from the settings or AWS_REGION, MLSCALE_SAGEMAKER_ROLE_ARN,
 * MLSCALE_SAGEMAKER_IMAGE and MLSCALE_S3_BUCKET, and credentials from the AWS SDK's default chain.
 */
import { pathToFileURL } from 'node:url';
import { sagemaker } from '@mlscale/aws';
import { startAwsEmulator } from '@mlscale/aws/emulator';
import { createMlscale } from '@mlscale/core';

export async function runSageMakerExample(log: (line: string) => void = console.log): Promise<void> {
  // Visible but short state transitions, so the progress events show Creating → InService.
  const emulator = await startAwsEmulator({
    delays: { endpointCreateMs: 600, endpointUpdateMs: 400, trainingStepMs: 100 },
  });
  const client = createMlscale({
    backend: sagemaker({
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'example-secret' },
      roleArn: 'arn:aws:iam::123456789012:role/mlscale-sagemaker',
      servingImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlscale-server:0.1.0',
      polling: { logIntervalMs: 200 },
    }),
    polling: { minDelayMs: 100, maxDelayMs: 500 },
    onEvent: (event) => {
      if (event.type === 'operation-progress') log(`  … ${event.operation} ${event.target}: ${event.state}`);
      if (event.type === 'operation-succeeded')
        log(`  ✓ ${event.operation} ${event.target} (${event.durationMs} ms)`);
    },
  });
  try {
    log(`AWS emulator at ${emulator.url}`);
    const deployed = await client.deploy({
      name: 'mnist',
      model: { uri: 's3://mlscale-models/mnist/model.tar.gz' },
      instance: { type: 'ml.c5.xlarge' },
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 8, target: { metric: 'requestsPerSecond', value: 20 } },
    });
    log(
      `deployed ${deployed.name}: ${deployed.state}, ${deployed.replicas.ready} instances, autoscaling ${deployed.autoscaling?.minReplicas}–${deployed.autoscaling?.maxReplicas}`,
    );
    log(`  invoke URL ${deployed.endpoint?.url}`);

    const prediction = await client.predict('mnist', {
      inputs: [
        { name: 'pixels', datatype: 'FP32', shape: [2, 4], data: [0.1, 0.9, 0.3, 0.2, 0.7, 0.1, 0.1, 0.05] },
      ],
    });
    for (const output of prediction.outputs) log(`prediction ${output.name}: ${JSON.stringify(output.data)}`);

    const updated = await client.update({
      name: 'mnist',
      model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' },
      instance: { type: 'ml.c5.xlarge' },
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 8, target: { metric: 'requestsPerSecond', value: 20 } },
      rollout: { steps: [10, 100], stepSeconds: 300, maxErrorRate: 0.01 },
    });
    log(`canary update done: now on ${String(updated.details?.endpointConfigName)}`);

    for (let index = 0; index < 5; index++) {
      await client.predict('mnist', {
        inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 2], data: [index, 1] }],
      });
    }
    const metrics = await client.metrics({
      target: { deployment: 'mnist' },
      names: ['invocations', 'latencyP99'],
      from: new Date(Date.now() - 120_000),
    });
    for (const series of metrics.series) {
      const values = series.values.filter((value) => value !== null);
      log(`metric ${series.name} (${series.stat}, ${series.unit}): ${JSON.stringify(values)}`);
    }
    for await (const entry of client.logs(
      { deployment: 'mnist' },
      { filter: 'POST /invocations', limit: 2 },
    )) {
      log(`log [${entry.source}] ${entry.message}`);
    }

    log('training a spot job (interrupted once by the emulator)…');
    emulator.faults.add({ kind: 'interruptSpot', jobName: 'mnist-train', count: 1 });
    await client.train(
      {
        name: 'mnist-train',
        image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311',
        command: ['python', 'train.py'],
        inputs: { train: { uri: 's3://mlscale-data/mnist/train/' } },
        output: { uri: 's3://mlscale-models/jobs/' },
        hyperparameters: { epochs: 3, learning_rate: 0.3 },
        spot: { maxWaitSeconds: 7200, checkpointPath: 's3://mlscale-models/checkpoints/mnist-train/' },
        maxRuntimeSeconds: 3600,
        metricDefinitions: [{ name: 'loss', regex: 'train_loss=([0-9.]+)' }],
      },
      { wait: false },
    );
    for await (const entry of client.logs({ job: 'mnist-train' }, { follow: true }))
      log(`  [${entry.source}] ${entry.message}`);
    const job = await client.job('mnist-train');
    log(
      `job ${job.state}: ${job.trainingSeconds} s trained, ${job.billableSeconds} s billed, ${job.interruptions} interruption(s), loss ${job.finalMetrics?.loss}, model ${job.modelUri}`,
    );

    await client.delete('mnist');
    log('deleted mnist (endpoint, endpoint configs, models and autoscaling)');
  } finally {
    await client.close();
    await emulator.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runSageMakerExample().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
