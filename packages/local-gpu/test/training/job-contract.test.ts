import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import { fixtureCommand, temporaryDirectory } from './training-fixtures.js';

describe('the container contract a job gets', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;
  let dataDirectory: string;
  let labelsFile: string;

  beforeAll(async () => {
    directory = await temporaryDirectory('contract');
    training = createLocalTraining({ root: join(directory.path, 'root'), stopGraceSeconds: 2 });
    dataDirectory = join(directory.path, 'data');
    await mkdir(dataDirectory);
    await writeFile(join(dataDirectory, 'rows.csv'), 'a,b\n1,2\n');
    labelsFile = join(directory.path, 'labels.txt');
    await writeFile(labelsFile, 'cat\ndog\n');
  });

  afterAll(async () => {
    await training.close();
    await directory.remove();
  });

  it('gives every rank of a 2 × 2 job the SageMaker, Vertex and torchrun variables and paths', async () => {
    await training.doCreate(
      {
        name: 'contract-two-by-two',
        command: fixtureCommand('contract-probe.mjs'),
        inputs: {
          train: { uri: dataDirectory, mode: 'copy', contentType: 'text/csv' },
          labels: { uri: `file://${labelsFile}`, mode: 'link' },
        },
        hyperparameters: { epochs: 3, 'learning-rate': 0.05, optimizer: 'adam', verbose: true },
        resources: { instanceType: 'ml.m5.xlarge', instanceCount: 1, gpus: 0 },
        distribution: { processesPerNode: 2, nodes: 2 },
        environment: { CUSTOM_SETTING: 'on', CUSTOM_API_TOKEN: 'secret-value-123' },
        metricDefinitions: [],
      },
      {},
    );
    const status = await training.waitUntilFinished('contract-two-by-two', { timeoutMs: 60_000 });
    expect(status.state, status.failureReason).toBe('Completed');
    expect(status.secondaryStatus).toBe('Completed');
    // The process gets the secret; the status and the record on disk do not show it.
    expect(status.spec.environment).toEqual({ CUSTOM_SETTING: 'on', CUSTOM_API_TOKEN: '[redacted]' });
    const recordText = await readFile(
      join(directory.path, 'root', 'jobs', 'contract-two-by-two', 'job.json'),
      'utf8',
    );
    expect(recordText).not.toContain('secret-value-123');

    const jobDirectory = join(directory.path, 'root', 'jobs', 'contract-two-by-two');
    const reports = await Promise.all(
      [0, 1, 2, 3].map(async (rank) =>
        JSON.parse(
          await readFile(join(jobDirectory, 'output', 'data', `contract-rank-${rank}.json`), 'utf8'),
        ),
      ),
    );
    const ports = new Set(reports.map((report) => report.variables.MASTER_PORT));
    expect(ports.size).toBe(1);
    expect(Number([...ports][0])).toBeGreaterThan(0);

    for (const [rank, report] of reports.entries()) {
      const node = Math.floor(rank / 2);
      const variables = report.variables as Record<string, string>;
      expect(variables).toMatchObject({
        TRAINING_JOB_NAME: 'contract-two-by-two',
        SM_MODEL_DIR: join(jobDirectory, 'model'),
        SM_OUTPUT_DIR: join(jobDirectory, 'output'),
        SM_OUTPUT_DATA_DIR: join(jobDirectory, 'output', 'data'),
        SM_INPUT_DIR: join(jobDirectory, 'input'),
        SM_INPUT_CONFIG_DIR: join(jobDirectory, 'input', 'config'),
        SM_CHANNELS: '["labels","train"]',
        SM_CHANNEL_TRAIN: join(jobDirectory, 'input', 'data', 'train'),
        SM_CHANNEL_LABELS: join(jobDirectory, 'input', 'data', 'labels'),
        SM_HP_EPOCHS: '3',
        SM_HP_LEARNING_RATE: '0.05',
        SM_HP_OPTIMIZER: 'adam',
        SM_HP_VERBOSE: 'true',
        SM_NUM_GPUS: '0',
        SM_CURRENT_HOST: `algo-${node + 1}`,
        SM_HOSTS: '["algo-1","algo-2"]',
        SM_CURRENT_INSTANCE_TYPE: 'ml.m5.xlarge',
        AIP_MODEL_DIR: `${join(jobDirectory, 'model')}/`,
        AIP_CHECKPOINT_DIR: `${join(jobDirectory, 'checkpoints')}/`,
        MASTER_ADDR: '127.0.0.1',
        RANK: String(rank),
        LOCAL_RANK: String(rank % 2),
        WORLD_SIZE: '4',
        LOCAL_WORLD_SIZE: '2',
        GROUP_RANK: String(node),
        NODE_RANK: String(node),
        TORCHELASTIC_RESTART_COUNT: '0',
        CUSTOM_SETTING: 'on',
        CUSTOM_API_TOKEN: 'secret-value-123',
      });
      expect(JSON.parse(variables.SM_HPS!)).toEqual({
        epochs: 3,
        'learning-rate': 0.05,
        optimizer: 'adam',
        verbose: true,
      });
      expect(Number(variables.SM_NUM_CPUS)).toBeGreaterThan(0);
      expect(JSON.parse(variables.SM_RESOURCE_CONFIG!)).toMatchObject({
        current_host: `algo-${node + 1}`,
        hosts: ['algo-1', 'algo-2'],
      });
      // Config files: hyperparameters as strings, as every cloud passes them.
      expect(report.hyperparameters).toEqual({
        epochs: '3',
        'learning-rate': '0.05',
        optimizer: 'adam',
        verbose: 'true',
      });
      expect(report.resourceConfig).toMatchObject({
        hosts: ['algo-1', 'algo-2'],
        current_instance_type: 'ml.m5.xlarge',
      });
      expect(report.inputDataConfig.train).toMatchObject({
        TrainingInputMode: 'File',
        ContentType: 'text/csv',
      });
      expect(report.channels.train).toEqual({
        files: ['rows.csv'],
        linked: [false],
        firstFile: 'a,b\n1,2\n',
      });
      expect(report.channels.labels).toEqual({
        files: ['labels.txt'],
        linked: [true],
        firstFile: 'cat\ndog\n',
      });
      expect(report.directories).toEqual({
        SM_MODEL_DIR: true,
        SM_OUTPUT_DATA_DIR: true,
        AIP_CHECKPOINT_DIR: true,
      });
    }
    for (const folder of ['model', 'output/data', 'checkpoints', 'input/config', 'logs']) {
      expect((await stat(join(jobDirectory, folder))).isDirectory()).toBe(true);
    }
  });

  it('runs a job without distribution as one process without torchrun variables', async () => {
    await training.doCreate(
      {
        name: 'contract-single',
        command: fixtureCommand('contract-probe.mjs'),
        inputs: { train: { uri: dataDirectory, mode: 'copy' } },
        output: { uri: join(directory.path, 'outputs') },
        hyperparameters: {},
        resources: { instanceCount: 1, gpus: 0 },
        environment: {},
        metricDefinitions: [],
      },
      {},
    );
    const status = await training.waitUntilFinished('contract-single', { timeoutMs: 60_000 });
    expect(status.state, status.failureReason).toBe('Completed');
    const report = JSON.parse(
      await readFile(
        join(
          directory.path,
          'root',
          'jobs',
          'contract-single',
          'output',
          'data',
          'contract-rank-single.json',
        ),
        'utf8',
      ),
    );
    expect(report.variables.SM_CURRENT_HOST).toBe('algo-1');
    expect(report.variables.RANK).toBeUndefined();
    expect(report.variables.MASTER_PORT).toBeUndefined();
    // With output.uri, the model and output land there, as SageMaker uploads them to S3.
    expect(status.modelUri).toBe(join(directory.path, 'outputs', 'contract-single', 'model'));
    expect((await stat(status.modelUri!)).isDirectory()).toBe(true);
    const copied = await readFile(
      join(directory.path, 'outputs', 'contract-single', 'output', 'data', 'contract-rank-single.json'),
      'utf8',
    );
    expect(JSON.parse(copied).variables.TRAINING_JOB_NAME).toBe('contract-single');
    expect(status.details?.processes).toEqual([
      { rank: 0, node: 0, localRank: 0, pid: expect.any(Number), exitCode: 0, signal: null },
    ]);
  });

  it('rejects what the local backend cannot run, naming the field', async () => {
    await expect(
      training.doCreate(
        {
          name: 'remote-data',
          command: ['node'],
          inputs: { train: { uri: 's3://bucket/data', mode: 'copy' } },
        } as never,
        {},
      ),
    ).rejects.toMatchObject({ code: 'Unsupported', message: expect.stringContaining('inputs.train.uri') });
    await expect(
      training.doCreate({ name: 'image-only', image: 'pytorch:2' } as never, {}),
    ).rejects.toMatchObject({
      code: 'Unsupported',
    });
    await expect(
      training.doCreate({ name: 'Bad_Name', command: ['node'] } as never, {}),
    ).rejects.toMatchObject({
      code: 'InvalidSpec',
      issues: [expect.objectContaining({ path: 'name' })],
    });
    await expect(
      training.doCreate(
        {
          name: 'bad-options',
          command: ['node'],
          providerOptions: { local: { workingDir: '/tmp' } },
        } as never,
        {},
      ),
    ).rejects.toMatchObject({ code: 'InvalidSpec' });
  });

  it('refuses a second job with a taken name', async () => {
    await expect(
      training.doCreate(
        { name: 'contract-single', command: fixtureCommand('contract-probe.mjs') } as never,
        {},
      ),
    ).rejects.toMatchObject({ code: 'AlreadyExists' });
  });
});
