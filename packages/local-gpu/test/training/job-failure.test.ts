import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import { fixtureCommand, processesOf, temporaryDirectory } from './training-fixtures.js';

describe('a job that fails', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;

  beforeAll(async () => {
    directory = await temporaryDirectory('failure');
    training = createLocalTraining({ root: directory.path, stopGraceSeconds: 2 });
  });

  afterAll(async () => {
    await training.close();
    await directory.remove();
  });

  it('reports the exit code and the last stderr lines', async () => {
    await training.doCreate({ name: 'fails-with-stderr', command: fixtureCommand('fail.mjs') } as never, {});
    const status = await training.waitUntilFinished('fails-with-stderr', { timeoutMs: 30_000 });
    expect(status.state).toBe('Failed');
    expect(status.secondaryStatus).toBe('Failed');
    expect(status.failureReason).toContain('Rank 0 exited with code 3');
    expect(status.failureReason).toContain('ValueError: rank 0 found an empty batch');
    expect(status.endedAt).toBeInstanceOf(Date);
  });

  it('prefers output/failure, as SageMaker does', async () => {
    await training.doCreate(
      {
        name: 'fails-with-file',
        command: fixtureCommand('fail.mjs'),
        environment: { WRITE_FAILURE_FILE: '1' },
      } as never,
      {},
    );
    const status = await training.waitUntilFinished('fails-with-file', { timeoutMs: 30_000 });
    expect(status.state).toBe('Failed');
    expect(status.failureReason).toBe('AlgorithmError: the training data is empty');
  });

  it('stops the other ranks when one fails, with that rank’s reason', async () => {
    await training.doCreate(
      {
        name: 'one-rank-fails',
        command: fixtureCommand('fail.mjs'),
        distribution: { processesPerNode: 2, nodes: 1 },
        environment: { FAIL_RANK: '1' },
      } as never,
      {},
    );
    const status = await training.waitUntilFinished('one-rank-fails', { timeoutMs: 30_000 });
    expect(status.state).toBe('Failed');
    expect(status.failureReason).toContain('Rank 1 exited with code 3');
    const processes = processesOf(status);
    // Rank 0 would run forever: it ended because the backend stopped it.
    expect(processes.find((entry) => entry.rank === 0)).toMatchObject({ signal: 'SIGTERM' });
  });

  it('fails a job whose program cannot start', async () => {
    await training.doCreate(
      { name: 'missing-program', command: [join(directory.path, 'no-such-program')] } as never,
      {},
    );
    const status = await training.waitUntilFinished('missing-program', { timeoutMs: 30_000 });
    expect(status.state).toBe('Failed');
    expect(status.failureReason).toContain('could not start');
  });

  it('fails a job whose input channel does not exist', async () => {
    await training.doCreate(
      {
        name: 'missing-input',
        command: fixtureCommand('fail.mjs'),
        inputs: { train: { uri: join(directory.path, 'nothing') } },
      } as never,
      {},
    );
    const status = await training.waitUntilFinished('missing-input', { timeoutMs: 30_000 });
    expect(status.state).toBe('Failed');
    expect(status.failureReason).toContain("Input channel 'train'");
  });
});
