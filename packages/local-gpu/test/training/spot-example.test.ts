import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import {
  exampleJob,
  fixtureCommand,
  temporaryDirectory,
  transitionsOf,
  writeExampleDataset,
} from './training-fixtures.js';

describe('spot interruptions', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;
  let data: { train: string; test: string };

  beforeAll(async () => {
    directory = await temporaryDirectory('spot');
    data = await writeExampleDataset(join(directory.path, 'data'));
    training = createLocalTraining({ root: join(directory.path, 'root'), stopGraceSeconds: 2 });
  });

  afterAll(async () => {
    await training.close();
    await directory.remove();
  });

  const model = (name: string) => readFile(join(directory.path, 'root', 'jobs', name, 'model', 'model.onnx'));

  it('resumes from the checkpoint and ends with the same model as an uninterrupted run', async () => {
    const base = {
      ...exampleJob,
      inputs: { train: { uri: data.train } },
      metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
    };
    await training.doCreate(
      { name: 'uninterrupted', ...base, hyperparameters: { epochs: 6, seed: 5 } } as never,
      {},
    );
    const checkpointPath = join(directory.path, 'kept-checkpoints');
    await training.doCreate(
      {
        name: 'interrupted',
        ...base,
        // The pause leaves time to interrupt between epochs; it changes nothing in the arithmetic.
        hyperparameters: { epochs: 6, seed: 5, 'epoch-pause-ms': 400 },
        spot: { maxWaitSeconds: 300, checkpointPath },
      } as never,
      {},
    );
    for await (const entry of training.logs('interrupted', { follow: true })) {
      if (entry.message.startsWith('epoch=2 ')) break;
    }
    const interrupted = await training.simulateSpotInterruption('interrupted', {
      capacityReturnsAfterSeconds: 0.5,
    });
    expect(interrupted.interruptions).toBe(0);

    const status = await training.waitUntilFinished('interrupted', { timeoutMs: 90_000 });
    const reference = await training.waitUntilFinished('uninterrupted', { timeoutMs: 90_000 });
    expect(status.state, status.failureReason).toBe('Completed');
    expect(reference.state, reference.failureReason).toBe('Completed');
    expect(status.interruptions).toBe(1);
    expect(status.details?.attempts).toBe(2);
    expect(status.trainingSeconds).toBeGreaterThan(0);
    expect(status.billableSeconds).toBe(status.trainingSeconds);
    const transitions = transitionsOf(status);
    expect(transitions).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Interrupted',
      'Starting',
      'Training',
      'Uploading',
      'Completed',
    ]);

    const lines: string[] = [];
    for await (const entry of training.logs('interrupted')) lines.push(entry.message);
    const resumed = lines.find((line) => line.startsWith('rank=0 resumed_from_epoch='));
    const resumedFrom = Number(resumed?.split('=').at(-1));
    expect(resumedFrom).toBeGreaterThanOrEqual(2);
    expect(resumedFrom).toBeLessThan(6);
    // Epochs after the checkpoint ran again; none before it.
    expect(lines.filter((line) => line.startsWith('epoch=1 '))).toHaveLength(1);

    expect(Buffer.compare(await model('interrupted'), await model('uninterrupted'))).toBe(0);
    const kept = JSON.parse(await readFile(join(checkpointPath, 'checkpoint.json'), 'utf8'));
    expect(kept.epoch).toBe(6);

    // A new job given the same checkpointPath starts from what it holds, as on SageMaker.
    await training.doCreate(
      {
        name: 'from-kept-checkpoints',
        ...base,
        hyperparameters: { epochs: 6, seed: 5 },
        spot: { maxWaitSeconds: 300, checkpointPath },
      } as never,
      {},
    );
    const continued = await training.waitUntilFinished('from-kept-checkpoints', { timeoutMs: 90_000 });
    expect(continued.state, continued.failureReason).toBe('Completed');
    const continuedLines: string[] = [];
    for await (const entry of training.logs('from-kept-checkpoints')) continuedLines.push(entry.message);
    expect(continuedLines).toContain('rank=0 resumed_from_epoch=6');
    expect(Buffer.compare(await model('from-kept-checkpoints'), await model('uninterrupted'))).toBe(0);
  });

  it('fails as MaxWaitTimeExceeded when capacity does not come back in time', async () => {
    await training.doCreate(
      { name: 'never-resumes', command: fixtureCommand('ticker.mjs'), spot: { maxWaitSeconds: 3 } } as never,
      {},
    );
    for await (const entry of training.logs('never-resumes', { follow: true })) {
      if (entry.message.startsWith('tick=1')) break;
    }
    await training.simulateSpotInterruption('never-resumes', { capacityReturnsAfterSeconds: 600 });
    const status = await training.waitUntilFinished('never-resumes', { timeoutMs: 30_000 });
    expect(status.state).toBe('Failed');
    expect(status.secondaryStatus).toBe('MaxWaitTimeExceeded');
    expect(status.failureReason).toContain('spot.maxWaitSeconds (3 s)');
    expect(status.interruptions).toBe(1);
  });

  it('refuses to interrupt a job that is not on spot capacity', async () => {
    await training.doCreate(
      {
        name: 'on-demand',
        command: fixtureCommand('ticker.mjs'),
        environment: { TICKS: '2', TICK_MS: '20' },
      } as never,
      {},
    );
    await expect(training.simulateSpotInterruption('on-demand')).rejects.toMatchObject({
      code: 'Unsupported',
    });
    await training.waitUntilFinished('on-demand', { timeoutMs: 30_000 });
  });
});
