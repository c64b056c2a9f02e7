import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainingJobSpecInput } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import { exampleJob, temporaryDirectory, writeExampleDataset } from './training-fixtures.js';

describe('distributed training with the example script (2 nodes × 2 processes)', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;
  let data: { train: string; test: string };

  const job = (name: string, distribution?: TrainingJobSpecInput['distribution']): TrainingJobSpecInput => ({
    name,
    ...exampleJob,
    inputs: { train: { uri: data.train }, test: { uri: data.test } },
    hyperparameters: { epochs: 4, 'batch-size': 32, seed: 11 },
    ...(distribution ? { distribution } : {}),
    metricDefinitions: [
      { name: 'loss', regex: 'loss=([0-9.]+)' },
      { name: 'test_accuracy', regex: 'test_accuracy=([0-9.]+)' },
    ],
  });

  beforeAll(async () => {
    directory = await temporaryDirectory('distributed');
    data = await writeExampleDataset(join(directory.path, 'data'));
    training = createLocalTraining({ root: join(directory.path, 'root'), stopGraceSeconds: 2 });
  });

  afterAll(async () => {
    await training.close();
    await directory.remove();
  });

  async function messages(name: string): Promise<{ source: string; message: string }[]> {
    const entries = [];
    for await (const entry of training.logs(name)) entries.push(entry);
    return entries;
  }

  async function summary(name: string): Promise<{ parameters: number[]; worldSize: number }> {
    return JSON.parse(
      await readFile(join(directory.path, 'root', 'jobs', name, 'output', 'data', 'summary.json'), 'utf8'),
    );
  }

  it('splits every batch across the ranks and ends with the full-batch result on every rank', async () => {
    await training.doCreate(job('two-by-two', { processesPerNode: 2, nodes: 2 }) as never, {});
    await training.doCreate(job('one-process') as never, {});
    const distributed = await training.waitUntilFinished('two-by-two', { timeoutMs: 90_000 });
    const single = await training.waitUntilFinished('one-process', { timeoutMs: 90_000 });
    expect(distributed.state, distributed.failureReason).toBe('Completed');
    expect(single.state, single.failureReason).toBe('Completed');

    const distributedLines = await messages('two-by-two');
    const shards = [0, 1, 2, 3].map((rank) => {
      const line = distributedLines.find(
        (entry) => entry.source === `rank-${rank}` && entry.message.includes('first_batch_rows='),
      );
      expect(line?.message).toContain(`world_size=4`);
      return line!.message.split('first_batch_rows=')[1]!.split(',');
    });
    // Each rank saw its own rows of the first batch: disjoint, and together the single process's batch.
    const union = shards.flat();
    expect(new Set(union).size).toBe(union.length);
    expect(shards.every((shard) => shard.length === 8)).toBe(true);
    const singleLine = (await messages('one-process')).find((entry) =>
      entry.message.includes('first_batch_rows='),
    );
    expect(new Set(union)).toEqual(new Set(singleLine!.message.split('first_batch_rows=')[1]!.split(',')));

    // Every rank ended with the same parameters.
    const checksums = [0, 1, 2, 3].map(
      (rank) =>
        distributedLines
          .find((entry) => entry.source === `rank-${rank}` && entry.message.includes('parameters_sha256='))
          ?.message.split('parameters_sha256=')[1],
    );
    expect(checksums.every((checksum) => checksum !== undefined && checksum === checksums[0])).toBe(true);

    // And they equal one process on the full batches, up to the order of float additions.
    const combined = await summary('two-by-two');
    const alone = await summary('one-process');
    expect(combined.worldSize).toBe(4);
    expect(combined.parameters).toHaveLength(alone.parameters.length);
    const largestDifference = Math.max(
      ...combined.parameters.map((value, index) => Math.abs(value - alone.parameters[index]!)),
    );
    expect(largestDifference).toBeLessThan(1e-9);
    expect(distributed.finalMetrics?.loss).toBeCloseTo(single.finalMetrics!.loss!, 5);
    expect(distributed.finalMetrics?.test_accuracy).toBeGreaterThan(0.8);
  });
});
