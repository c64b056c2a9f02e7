import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMlscale,
  type DeploymentStatus,
  type MlscaleClient,
  MlscaleError,
  type TrainingJobStatus,
  waitFor,
} from '@mlscale/core';
import { type LocalGpuBackend, localGpu } from '@mlscale/local-gpu';
import { generateBlobs, writeCsv } from '../../../../examples/train-classifier/dataset.js';
import { clients, type DemoReport, renderDemoReportHtml, type TimelineEvent } from './demo-report.js';
import { buildTimeline, type ReplicaObservation } from './demo-timeline.js';
import { type LoadPhase, percentile, runLoadRamp } from './load-generator.js';
import type { Progress } from './progress.js';

export interface DemoOptions {
  /** Where state and the report go. The state folder is emptied first. */
  directory: string;
  progress: Progress;
  /** Shorter load phases (for tests and slow machines). */
  quick?: boolean;
  signal?: AbortSignal;
}

export interface DemoResult {
  report: DemoReport;
  htmlPath: string;
  jsonPath: string;
}

const features = 4;
const classes = 3;
const epochs = 8;
const interruptAfterEpoch = 3;
const modelName = 'demo-classifier';

/** The training program: the example classifier, bundled beside this file by the CLI's build. */
function trainerPath(): string {
  const bundled = fileURLToPath(new URL('./demo-trainer.cjs', import.meta.url));
  if (existsSync(bundled)) return bundled;
  throw new MlscaleError({
    code: 'InvalidSpec',
    message: `The demo's training program is missing (${bundled}); build the CLI first (pnpm build).`,
  });
}

/**
 * The whole story on the local backend: train the example classifier (with one spot interruption and
 * the resume), register it, deploy it with autoscaling, drive a low → spike → low load ramp, and write a
 * report. Cleans up the servers and workers it started, whatever happens.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { progress, signal } = options;
  const started = performance.now();
  const stateDirectory = join(options.directory, 'state');
  await rm(stateDirectory, { recursive: true, force: true });
  await mkdir(stateDirectory, { recursive: true });

  const backend = localGpu({
    root: stateDirectory,
    autoscaleIntervalMs: 250,
    training: { stopGraceSeconds: 5 },
  });
  const client = createMlscale({ backend, polling: { minDelayMs: 50, maxDelayMs: 250 } });
  try {
    // 1. Data: seeded blobs, a training channel and held-out rows.
    const dataset = generateBlobs({ seed: 42, samples: 3000, features, classes, spread: 1.3 });
    const trainRows = { features: dataset.features.slice(0, 2400), labels: dataset.labels.slice(0, 2400) };
    const heldOut = { features: dataset.features.slice(2400), labels: dataset.labels.slice(2400) };
    const dataDirectory = join(stateDirectory, 'data', 'train');
    await mkdir(dataDirectory, { recursive: true });
    await writeCsv(join(dataDirectory, 'train.csv'), trainRows);

    // 2. Training, with a spot reclaim after a few epochs.
    progress.phase('Training the example classifier (spot capacity, one interruption)');
    const training = await trainWithInterruption(client, backend, dataDirectory, progress, signal);

    // 3. Registry.
    progress.phase('Registering the model');
    const version = await backend.models.registerJobModel(training.status, {
      name: modelName,
      baselineRows: trainRows.features,
    });
    progress.done(
      `${modelName} version ${version.version} (sha256 ${version.sha256.slice(0, 12)}…), lineage: job ${training.status.name}`,
    );

    // 4. Deployment with autoscaling.
    progress.phase('Deploying with autoscaling (min 1, max 4 replicas)');
    const deployment = await client.deploy(
      {
        name: modelName,
        model: { name: modelName, version: version.version },
        replicas: 1,
        autoscaling: {
          minReplicas: 1,
          maxReplicas: 4,
          target: { metric: 'concurrentRequests', value: 3 },
          scaleOutCooldownSeconds: 1,
          scaleInCooldownSeconds: 3,
        },
        batching: { maxBatchSize: 16, maxQueueDelayMs: 1 },
      },
      signal ? { signal } : {},
    );
    const device = deployment.device ?? { requested: 'auto', used: 'cpu' };
    progress.done(
      `serving at ${deployment.endpoint?.url} on ${device.used}${device.reason ? ` (${device.reason})` : ''}`,
    );

    const heldOutAccuracy = await measureAccuracy(client, heldOut);
    progress.note(
      `held-out accuracy ${(heldOutAccuracy * 100).toFixed(1)}% on ${heldOut.labels.length} rows the job never saw`,
    );

    // 5. Load ramp.
    const phases: LoadPhase[] = options.quick
      ? [
          { name: 'low', durationMs: 2000, concurrency: 1 },
          { name: 'spike', durationMs: 5000, concurrency: 24 },
          { name: 'low', durationMs: 5000, concurrency: 1 },
        ]
      : [
          { name: 'low', durationMs: 5000, concurrency: 2 },
          { name: 'spike', durationMs: 10_000, concurrency: 32 },
          { name: 'low', durationMs: 10_000, concurrency: 2 },
        ];
    progress.phase(
      `Load ramp: ${phases.map((phase) => `${phase.name} (${clients(phase.concurrency)}, ${phase.durationMs / 1000} s)`).join(' → ')}`,
    );
    const load = await driveLoad(client, deployment, phases, progress, signal);

    // 6. Report.
    const samples = load.samples;
    const latencies = samples.filter((sample) => sample.status === 200).map((sample) => sample.latencyMs);
    const totalSeconds = Math.ceil(phases.reduce((sum, phase) => sum + phase.durationMs, 0) / 1000);
    const finalStatus = await client.get(modelName);
    const report: DemoReport = {
      generatedAt: new Date().toISOString(),
      machine: {
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        node: process.version,
      },
      summary: {
        requests: samples.length,
        errors: samples.filter((sample) => sample.status !== 200).length,
        latencyP50Ms: round(percentile(latencies, 50)),
        latencyP99Ms: round(percentile(latencies, 99)),
        peakReplicas: Math.max(...load.replicas.map((observation) => observation.replicas)),
        finalReplicas: finalStatus.replicas.ready,
        device: device.used,
        ...(device.reason ? { deviceReason: device.reason } : {}),
        modelAccuracy: training.accuracy,
        heldOutAccuracy,
        trainingEpochs: epochs,
        spotInterruptions: training.status.interruptions ?? 0,
        durationSeconds: round((performance.now() - started) / 1000),
      },
      phases: phases.map((phase) => ({
        name: phase.name,
        concurrency: phase.concurrency,
        durationSeconds: phase.durationMs / 1000,
      })),
      timeline: buildTimeline(samples, load.replicas, totalSeconds),
      events: load.events,
    };
    const htmlPath = join(options.directory, 'report.html');
    const jsonPath = join(options.directory, 'report.json');
    await writeFile(htmlPath, renderDemoReportHtml(report));
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    return { report, htmlPath, jsonPath };
  } finally {
    await client.delete(modelName, { timeoutMs: 30_000 }).catch(() => undefined);
    await client.close();
  }
}

async function trainWithInterruption(
  client: MlscaleClient,
  backend: LocalGpuBackend,
  dataDirectory: string,
  progress: Progress,
  signal: AbortSignal | undefined,
) {
  const name = `demo-train-${Date.now().toString(36)}`;
  await client.train(
    {
      name,
      command: [process.execPath, trainerPath()],
      inputs: { train: { uri: dataDirectory } },
      hyperparameters: {
        epochs,
        'batch-size': 64,
        'learning-rate': 0.2,
        'hidden-units': 16,
        seed: 7,
        'epoch-pause-ms': 250,
      },
      spot: { maxWaitSeconds: 300 },
      maxRuntimeSeconds: 120,
      metricDefinitions: [
        { name: 'loss', regex: 'loss=([0-9.]+)' },
        { name: 'accuracy', regex: ' accuracy=([0-9.]+)' },
      ],
    },
    { wait: false, ...(signal ? { signal } : {}) },
  );
  let interrupted = false;
  let accuracy = 0;
  const follow = new AbortController();
  const stopFollowing = () => follow.abort();
  signal?.addEventListener('abort', stopFollowing, { once: true });
  const following = (async () => {
    for await (const entry of client.logs({ job: name }, { follow: true, signal: follow.signal })) {
      const epoch = /epoch=(\d+)\s+loss=([0-9.]+)\s+accuracy=([0-9.]+)/.exec(entry.message);
      if (epoch) {
        accuracy = Number(epoch[3]);
        progress.update(
          `epoch ${epoch[1]}/${epochs}  loss ${epoch[2]}  accuracy ${epoch[3]}`,
          Number(epoch[1]) / epochs,
        );
        if (!interrupted && Number(epoch[1]) === interruptAfterEpoch) {
          interrupted = true;
          progress.note(
            `spot capacity reclaimed after epoch ${interruptAfterEpoch}: processes stopped, checkpoints kept`,
          );
          await backend.training.simulateSpotInterruption(name, { capacityReturnsAfterSeconds: 1 });
        }
      } else if (/resumed_from_epoch=(\d+)/.test(entry.message)) {
        progress.note(
          `capacity is back: resumed from the checkpoint of epoch ${/resumed_from_epoch=(\d+)/.exec(entry.message)![1]}`,
        );
      }
    }
  })();
  try {
    const status = await waitForJob(client, name, signal);
    follow.abort();
    await following.catch(() => undefined);
    progress.done(
      `${status.state}: ${epochs} epochs, ${status.interruptions ?? 0} interruption(s), ${status.trainingSeconds ?? '?'} s training, ${status.billableSeconds ?? '?'} s billable`,
    );
    return { status, accuracy: status.finalMetrics?.accuracy ?? accuracy };
  } finally {
    follow.abort();
    signal?.removeEventListener('abort', stopFollowing);
  }
}

/** Waits for a job to end; throws with its reason unless it completed. */
/** Waits for a job to end with core's waiter; throws with its reason unless it completed. */
function waitForJob(client: MlscaleClient, name: string, signal: AbortSignal | undefined) {
  return waitFor<TrainingJobStatus>({
    description: `training job '${name}' to finish`,
    minDelayMs: 100,
    maxDelayMs: 100,
    ...(signal ? { signal } : {}),
    check: async () => {
      const status = await client.job(name);
      if (status.state === 'Completed') return { state: 'SUCCESS', value: status };
      if (status.state === 'Failed' || status.state === 'Stopped') {
        return {
          state: 'FAILURE',
          reason: `training ${status.state.toLowerCase()}: ${status.failureReason ?? status.secondaryStatus ?? 'no reason given'}`,
        };
      }
      return { state: 'RETRY', progress: status.state };
    },
  });
}

async function measureAccuracy(
  client: MlscaleClient,
  rows: { features: number[][]; labels: number[] },
): Promise<number> {
  const response = await client.predict(modelName, {
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [rows.features.length, features],
        data: rows.features.flat(),
      },
    ],
  });
  const probabilities = response.outputs[0]!.data as number[];
  let correct = 0;
  rows.labels.forEach((label, row) => {
    const scores = probabilities.slice(row * classes, (row + 1) * classes);
    if (scores.indexOf(Math.max(...scores)) === label) correct++;
  });
  return correct / rows.labels.length;
}

async function driveLoad(
  client: MlscaleClient,
  deployment: DeploymentStatus,
  phases: LoadPhase[],
  progress: Progress,
  signal: AbortSignal | undefined,
) {
  const replicas: ReplicaObservation[] = [{ atMs: 0, replicas: deployment.replicas.ready }];
  const events: TimelineEvent[] = [];
  const loadStarted = performance.now();
  let phaseStart = 0;
  for (const phase of phases) {
    events.push({
      second: phaseStart / 1000,
      kind: 'phase',
      label: `${phase.name}: ${clients(phase.concurrency)}`,
    });
    phaseStart += phase.durationMs;
  }
  let watching = true;
  const watcher = (async () => {
    let last = deployment.replicas.ready;
    while (watching) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const status = await client.get(modelName).catch(() => undefined);
      if (!status) continue;
      const atMs = performance.now() - loadStarted;
      const now = status.replicas.ready;
      replicas.push({ atMs, replicas: now });
      if (now !== last) {
        const label = `replicas ${last} → ${now} at ${(atMs / 1000).toFixed(1)} s`;
        events.push({ second: atMs / 1000, kind: 'scale', label });
        progress.note(`autoscaler: ${label}`);
        last = now;
      }
    }
  })();
  const total = phases.reduce((sum, phase) => sum + phase.durationMs, 0);
  const body = JSON.stringify({
    inputs: [{ name: 'features', datatype: 'FP32', shape: [1, features], data: [0.5, -1.2, 2.1, 0.3] }],
  });
  try {
    const samples = await runLoadRamp({
      url: `${deployment.endpoint!.url}/v2/models/${modelName}/infer`,
      body,
      phases,
      ...(signal ? { signal } : {}),
      onTick: (elapsedMs, phase) =>
        progress.update(
          `${phase.name}: ${clients(phase.concurrency)}, replicas ${replicas.at(-1)?.replicas ?? '?'}`,
          elapsedMs / total,
        ),
    });
    progress.done(
      `${samples.length.toLocaleString('en-US')} requests, ${samples.filter((sample) => sample.status !== 200).length} errors`,
    );
    return { samples, replicas, events };
  } finally {
    watching = false;
    await watcher;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
