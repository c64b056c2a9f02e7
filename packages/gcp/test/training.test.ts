import { createMlscale, type LogEntry, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRun } from '../src/emulator/index.js';
import { startVertexTestSetup, type VertexTestSetup, type WireMessage } from './vertex-test-setup.js';

describe('vertex() training as CustomJobs on the emulator', () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;
  const runs: JobRun[] = [];

  beforeAll(async () => {
    setup = await startVertexTestSetup({
      // Jobs whose command says "sleep" run until cancelled; others log their environment's key values and finish.
      jobRunner: (run) =>
        new Promise((resolve, reject) => {
          runs.push(run);
          const command = String(
            JSON.stringify(
              (run.job.jobSpec as { workerPoolSpecs: { containerSpec: { command?: string[] } }[] })
                .workerPoolSpecs[0]!.containerSpec.command,
            ),
          );
          run.log(`epoch 1 loss=0.50 model_dir=${run.environment.AIP_MODEL_DIR ?? ''}`);
          const timer = setTimeout(
            () => {
              run.log('epoch 2 loss=0.25');
              resolve();
            },
            command.includes('sleep') ? 60_000 : 100,
          );
          run.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('stopped'));
          });
        }),
    });
    client = createMlscale({ backend: setup.backend, polling: { minDelayMs: 20, maxDelayMs: 200 } });
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  it('runs a distributed SPOT job: worker pools, accelerators, scheduling, output directory; survives a preemption', async () => {
    setup.emulator.setFaults({ spotPreemptions: 1 });
    const status = await client.train({
      name: 'resnet-spot',
      image: 'us-docker.pkg.dev/acme/train/resnet:1',
      command: ['python', '-m', 'trainer'],
      hyperparameters: { lr: 0.1, epochs: 2 },
      inputs: { train: { uri: 'gs://acme-data/train/' } },
      output: { uri: 'gs://acme-models/resnet/' },
      resources: { instanceType: 'a2-highgpu-1g', instanceCount: 3, gpus: 2 },
      distribution: { nodes: 3, processesPerNode: 2 },
      spot: { maxWaitSeconds: 7200, checkpointPath: 'gs://acme-models/resnet/checkpoints/' },
      maxRuntimeSeconds: 3600,
      environment: { NCCL_DEBUG: 'INFO' },
      tags: { team: 'vision' },
      providerOptions: {
        gcp: { acceleratorType: 'NVIDIA_TESLA_A100', serviceAccount: 'trainer@acme.iam.gserviceaccount.com' },
      },
    });
    expect(status.state).toBe('Completed');
    expect(status.modelUri).toBe('gs://acme-models/resnet/model/');

    const [create] = setup.emulator.requests.filter(
      (request) => request.method === 'JobService.CreateCustomJob',
    );
    const job = (create!.request as { customJob: WireMessage }).customJob;
    const machineSpec = {
      machineType: 'a2-highgpu-1g',
      acceleratorType: 'NVIDIA_TESLA_A100',
      acceleratorCount: 2,
    };
    expect(
      job.jobSpec.workerPoolSpecs.map((pool: WireMessage) => [String(pool.replicaCount), pool.machineSpec]),
    ).toEqual([
      ['1', machineSpec],
      ['2', machineSpec],
    ]);
    const container = job.jobSpec.workerPoolSpecs[0].containerSpec;
    expect(container.imageUri).toBe('us-docker.pkg.dev/acme/train/resnet:1');
    expect(container.command).toEqual(['python', '-m', 'trainer']);
    expect(container.args).toEqual(['--epochs=2', '--lr=0.1']);
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'NCCL_DEBUG', value: 'INFO' },
        { name: 'MLSCALE_INPUT_TRAIN', value: 'gs://acme-data/train/' },
        { name: 'MLSCALE_CHECKPOINT_DIR', value: 'gs://acme-models/resnet/checkpoints/' },
      ]),
    );
    expect(job.jobSpec.scheduling).toMatchObject({
      strategy: 'SPOT',
      restartJobOnWorkerRestart: true,
      timeout: { seconds: '3600' },
      maxWaitDuration: { seconds: '7200' },
    });
    expect(job.jobSpec.baseOutputDirectory).toEqual({ outputUriPrefix: 'gs://acme-models/resnet/' });
    expect(job.jobSpec.serviceAccount).toBe('trainer@acme.iam.gserviceaccount.com');
    expect(job.labels).toMatchObject({ 'mlscale-job': 'resnet-spot', team: 'vision' });

    // Vertex gives the chief the output directories and the cluster layout.
    const resnetRuns = runs.filter((run) => run.job.displayName === 'resnet-spot');
    expect(resnetRuns.map((run) => run.attempt)).toEqual([0, 1]);
    const environment = resnetRuns[1]!.environment;
    expect(environment.AIP_MODEL_DIR).toBe('gs://acme-models/resnet/model/');
    expect(environment.AIP_CHECKPOINT_DIR).toBe('gs://acme-models/resnet/checkpoints/');
    const cluster = JSON.parse(environment.CLUSTER_SPEC!) as {
      cluster: { worker_pools: { replicas: string[] }[] };
    };
    expect(cluster.cluster.worker_pools.map((pool) => pool.replicas.length)).toEqual([1, 2]);
    const history = [...setup.emulator.state.jobHistory.values()][0]!;
    expect(history).toEqual([
      'JOB_STATE_QUEUED',
      'JOB_STATE_PENDING',
      'JOB_STATE_RUNNING',
      'JOB_STATE_PENDING',
      'JOB_STATE_RUNNING',
      'JOB_STATE_SUCCEEDED',
    ]);
  });

  it('reads the job logs from Cloud Logging', async () => {
    const entries: LogEntry[] = [];
    for await (const entry of client.logs({ job: 'resnet-spot' })) entries.push(entry);
    expect(entries.map((entry) => entry.message)).toEqual(
      expect.arrayContaining([
        'The spot VM was preempted; the job restarts on new capacity.',
        'epoch 2 loss=0.25',
      ]),
    );
    const filtered: LogEntry[] = [];
    for await (const entry of client.logs({ job: 'resnet-spot' }, { filter: 'loss=0.25', limit: 1 }))
      filtered.push(entry);
    expect(filtered.map((entry) => entry.message)).toEqual(['epoch 2 loss=0.25']);
    expect(filtered[0]!.source).toBe('workerpool0-0');
  });

  it('cancels a running job: CANCELLING, then CANCELLED as Stopped', async () => {
    await client.train(
      { name: 'long-job', image: 'trainer:1', command: ['sleep', 'forever'] },
      { wait: false },
    );
    for (let attempt = 0; attempt < 1000 && (await client.job('long-job')).state !== 'Running'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stopped = await client.stopJob('long-job');
    expect(stopped.state).toBe('Stopped');
    expect(stopped.secondaryStatus).toBe('JOB_STATE_CANCELLED');
    expect(setup.emulator.requests.some((request) => request.method === 'JobService.CancelCustomJob')).toBe(
      true,
    );
    // Stopping a stopped job changes nothing.
    expect((await client.stopJob('long-job')).state).toBe('Stopped');
  });

  it('reports a failed job with its error, and rejects names already taken', async () => {
    setup.emulator.setFaults({
      failJobs: {
        message: 'The replica workerpool0-0 exited with a non-zero status of 137 (out of memory).',
      },
    });
    const error = await client
      .train({ name: 'oom-job', image: 'trainer:1' })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as Error).message).toContain('non-zero status of 137');
    const failed = await client.job('oom-job');
    expect(failed.state).toBe('Failed');
    expect(failed.failureReason).toContain('out of memory');
    await expect(client.train({ name: 'oom-job', image: 'trainer:1' })).rejects.toSatisfy((caught) =>
      MlscaleError.hasCode(caught, 'AlreadyExists'),
    );
  });

  it('reads the spec of a job started by another process back from the CustomJob', async () => {
    const other = createMlscale({ backend: setup.newBackend() });
    const status = await other.job('resnet-spot');
    expect(status.spec).toMatchObject({
      name: 'resnet-spot',
      image: 'us-docker.pkg.dev/acme/train/resnet:1',
      hyperparameters: { lr: '0.1', epochs: '2' },
      resources: { instanceType: 'a2-highgpu-1g', instanceCount: 3, gpus: 2 },
      maxRuntimeSeconds: 3600,
      spot: { maxWaitSeconds: 7200 },
    });
  });
});
