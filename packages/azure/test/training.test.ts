import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator } from '../src/emulator/index.js';
import { azureml } from '../src/index.js';
import { bodyOf } from './wire-body.js';

let emulator: AzureMlEmulator;
let client: MlscaleClient;

beforeAll(async () => {
  emulator = await startAzureMlEmulator();
  client = createMlscale({
    backend: azureml({ ...emulator.settings, compute: 'cpu-cluster', spotCompute: 'low-priority-cluster' }),
    polling: { minDelayMs: 20, maxDelayMs: 200 },
  });
});

afterAll(async () => {
  await emulator.close();
});

it('runs a distributed PyTorch command job and maps its status', async () => {
  const start = emulator.requests.length;
  const started = await client.train(
    {
      name: 'distributed-train',
      image: 'mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1:1',
      command: ['python', 'train.py', '--note', "it's fine"],
      inputs: { training: { uri: 'azureml://datastores/workspaceblobstore/paths/mnist/', mode: 'link' } },
      output: { uri: 'azureml://datastores/workspaceblobstore/paths/models/mnist/' },
      hyperparameters: { lr: 0.01, epochs: 3 },
      resources: { instanceCount: 2, instanceType: 'Standard_NC24ads_A100_v4', gpus: 1 },
      distribution: { processesPerNode: 4, nodes: 2 },
      maxRuntimeSeconds: 3600,
      environment: { NCCL_DEBUG: 'INFO' },
      providerOptions: { azure: { compute: 'gpu-cluster', experimentName: 'mnist' } },
    },
    { wait: false },
  );
  expect(started.state).toBe('Pending');
  expect(started.secondaryStatus).toBe('NotStarted');
  const put = emulator.requests
    .slice(start)
    .find((item) => item.method === 'PUT' && item.path.endsWith('/jobs/distributed-train'));
  const properties = bodyOf(put).properties;
  expect(properties).toMatchObject({
    jobType: 'Command',
    // Azure substitutes the `${{inputs.training}}` placeholder with where the input is mounted.
    command: [
      'MLSCALE_INPUT_TRAINING=$',
      "{{inputs.training}} python train.py --note 'it'\"'\"'s fine' --lr 0.01 --epochs 3",
    ].join(''),
    computeId: expect.stringMatching(/\/workspaces\/mlscale-workspace\/computes\/gpu-cluster$/),
    environmentId: expect.stringContaining('/environments/mlscale-training/versions/'),
    experimentName: 'mnist',
    resources: { instanceCount: 2, instanceType: 'Standard_NC24ads_A100_v4' },
    distribution: { distributionType: 'PyTorch', processCountPerInstance: 4 },
    limits: { jobLimitsType: 'Command', timeout: 'PT3600S' },
    environmentVariables: { NCCL_DEBUG: 'INFO' },
    inputs: {
      training: {
        jobInputType: 'uri_folder',
        mode: 'ReadOnlyMount',
        uri: 'azureml://datastores/workspaceblobstore/paths/mnist/',
      },
    },
    outputs: { model: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount' } },
  });
  const environment = emulator.requests
    .slice(start)
    .find((item) => item.path.includes('/environments/mlscale-training/'));
  expect(bodyOf(environment).properties.image).toBe(
    'mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1:1',
  );

  const seen = new Set<string>();
  for (;;) {
    const status = await client.job('distributed-train');
    seen.add(`${status.state}:${status.secondaryStatus}`);
    if (status.state === 'Completed') break;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  expect(seen).toContain('Running:Running');
  const final = await client.job('distributed-train');
  expect(final.spec.distribution).toEqual({ processesPerNode: 4, nodes: 2 });
  expect(final.modelUri).toBe('azureml://datastores/workspaceblobstore/paths/models/mnist/');
  const names: string[] = [];
  for await (const job of client.jobs()) names.push(job.name);
  expect(names).toContain('distributed-train');
});

it('cancels a job through the cancel operation and reports it Stopped', async () => {
  await client.train(
    { name: 'to-cancel', image: 'python:3.12', command: ['python', 'loop.py'] },
    { wait: false },
  );
  const start = emulator.requests.length;
  const stopped = await client.stopJob('to-cancel');
  expect(stopped.state).toBe('Stopped');
  expect(stopped.secondaryStatus).toBe('Canceled');
  expect(
    emulator.requests
      .slice(start)
      .some((item) => item.method === 'POST' && item.path.endsWith('/jobs/to-cancel/cancel')),
  ).toBe(true);
});

it('reports a failed job as Failed and train rejects', async () => {
  emulator.inject({ kind: 'failJob', job: 'doomed' });
  const error = await client
    .train({ name: 'doomed-job', image: 'python:3.12', command: ['python', 'fail.py'] })
    .catch((caught: unknown) => caught);
  expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
  expect((error as MlscaleError).message).toContain('Failed');
  expect((await client.job('doomed-job')).state).toBe('Failed');
});

it('runs spot jobs on the low-priority cluster and names what is missing', async () => {
  await client.train(
    {
      name: 'spot-job',
      image: 'python:3.12',
      command: ['python', 'train.py'],
      spot: { maxWaitSeconds: 7200 },
    },
    { wait: false },
  );
  const put = emulator.requests.find((item) => item.method === 'PUT' && item.path.endsWith('/jobs/spot-job'));
  expect(bodyOf(put).properties.computeId).toMatch(/\/computes\/low-priority-cluster$/);

  const bare = createMlscale({ backend: azureml({ ...emulator.settings }) });
  const noCompute = await bare
    .train({ name: 'no-compute', image: 'python:3.12', command: ['python'] })
    .catch((caught: unknown) => caught);
  expect((noCompute as MlscaleError).issues.map((issue) => issue.path)).toEqual([
    'providerOptions.azure.compute',
  ]);
  const noImage = await client
    .train({ name: 'no-image', command: ['python'] })
    .catch((caught: unknown) => caught);
  expect((noImage as MlscaleError).issues.map((issue) => issue.path)).toEqual(['image']);
  const localOutput = await client
    .train({ name: 'local-output', image: 'python:3.12', command: ['python'], output: { uri: '/tmp/out' } })
    .catch((caught: unknown) => caught);
  expect((localOutput as MlscaleError).issues.map((issue) => issue.path)).toEqual(['output.uri']);
});
