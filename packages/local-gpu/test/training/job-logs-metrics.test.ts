import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LogEntry, logQuerySchema, metricQuerySchema } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalMonitoring } from '../../src/monitoring/index.js';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import { fixtureCommand, temporaryDirectory } from './training-fixtures.js';

describe('job logs and metrics', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;

  beforeAll(async () => {
    directory = await temporaryDirectory('logs');
    training = createLocalTraining({ root: directory.path, stopGraceSeconds: 2, followIntervalMs: 50 });
  });

  afterAll(async () => {
    await training.close();
    await directory.remove();
  });

  it('follows a running job line by line and ends when the job does', async () => {
    const created = await training.doCreate(
      {
        name: 'follow-me',
        command: fixtureCommand('ticker.mjs'),
        environment: {
          TICKS: '16',
          TICK_MS: '120',
          PRINT_LINE: 'calling with Authorization: Bearer sk-live-1234567890',
        },
        metricDefinitions: [
          { name: 'loss', regex: 'loss=([0-9.]+)' },
          { name: 'tick', regex: 'tick=(\\d+)' },
        ],
      } as never,
      {},
    );
    expect(created.state).toBe('Pending');
    const seen: LogEntry[] = [];
    let runningWhileReading = false;
    for await (const entry of training.logs('follow-me', { follow: true })) {
      seen.push(entry);
      if (entry.message === 'tick=2 loss=0.5000') {
        runningWhileReading = (await training.doGet('follow-me', {}))?.state === 'Running';
      }
    }
    // The iterator ended on its own, after the job's last line.
    expect(runningWhileReading).toBe(true);
    const status = await training.doGet('follow-me', {});
    expect(status?.state).toBe('Completed');
    const ticks = seen.filter((entry) => entry.source === 'rank-0' && entry.message.startsWith('tick='));
    expect(ticks.map((entry) => entry.message)).toEqual(
      Array.from({ length: 16 }, (_, index) => `tick=${index + 1} loss=${(1 / (index + 1)).toFixed(4)}`),
    );
    expect(ticks[0]?.fields).toEqual({ stream: 'stdout', rank: 0 });
    expect(seen.some((entry) => entry.source === 'rank-0' && entry.fields?.stream === 'stderr')).toBe(true);
    expect(seen.at(-1)?.source).toBe('system');
    for (let index = 1; index < seen.length; index++) {
      expect(seen[index]!.time.getTime()).toBeGreaterThanOrEqual(seen[index - 1]!.time.getTime());
    }
    // On disk: timestamped and labelled by rank, secrets masked.
    const file = await readFile(join(directory.path, 'jobs', 'follow-me', 'logs', 'job.log'), 'utf8');
    expect(file).toContain('Authorization: Bearer [redacted]');
    expect(file).not.toContain('sk-live-1234567890');
    expect(file).toMatch(/^\d{4}-\d\d-\d\dT\S+Z \[rank-0\] \[stdout\] tick=1 loss=1\.0000$/m);
  });

  it('reads logs after the end, with filter and limit', async () => {
    const filtered: string[] = [];
    for await (const entry of training.logs('follow-me', { filter: 'warning' })) filtered.push(entry.message);
    expect(filtered).toEqual([
      'warning at tick 3',
      'warning at tick 6',
      'warning at tick 9',
      'warning at tick 12',
      'warning at tick 15',
    ]);
    const limited: string[] = [];
    for await (const entry of training.logs('follow-me', { limit: 2 })) limited.push(entry.message);
    expect(limited).toHaveLength(2);
  });

  it('turns log lines into metrics through the metric definitions', async () => {
    const status = await training.doGet('follow-me', {});
    expect(status?.finalMetrics).toEqual({ loss: 0.0625, tick: 16 });
    const points = await training.metricPoints('follow-me');
    expect(points.filter((point) => point.name === 'tick').map((point) => point.value)).toEqual(
      Array.from({ length: 16 }, (_, index) => index + 1),
    );

    const from = new Date(status!.startedAt!.getTime() - 1000);
    const to = new Date(status!.endedAt!.getTime() + 1000);
    const result = await training.metrics({
      target: { job: 'follow-me' },
      names: ['tick', 'loss', 'accuracy'],
      from,
      to,
      periodSeconds: 3600,
      stat: 'maximum',
    });
    expect(result.series.map((series) => [series.name, series.values])).toEqual([
      ['tick', [16]],
      ['loss', [1]],
    ]);
    expect(result.absent).toEqual([
      { name: 'accuracy', reason: expect.stringContaining('no metric definition') },
    ]);
    const counted = await training.metrics({
      target: { job: 'follow-me' },
      names: ['tick'],
      from,
      to,
      periodSeconds: 3600,
      stat: 'sampleCount',
    });
    expect(counted.series[0]?.values).toEqual([16]);
  });

  it('plugs into local monitoring as its job source', async () => {
    const monitoring = createLocalMonitoring({ jobSource: training, sampleIntervalMs: false });
    try {
      const lines: string[] = [];
      const query = logQuerySchema.parse({ filter: 'tick=16' });
      for await (const entry of monitoring.doLogs({ job: 'follow-me' }, query, {})) lines.push(entry.message);
      expect(lines).toEqual(['tick=16 loss=0.0625']);
      const status = await training.doGet('follow-me', {});
      const result = await monitoring.doMetrics(
        metricQuerySchema.parse({
          target: { job: 'follow-me' },
          names: ['tick'],
          from: new Date(status!.startedAt!.getTime() - 1000),
          to: new Date(status!.endedAt!.getTime() + 1000),
          periodSeconds: 3600,
          stat: 'sum',
        }),
        {},
      );
      expect(result.series[0]?.values).toEqual([136]);
      expect(training.has('follow-me')).toBe(true);
      expect(training.has('not-there')).toBe(false);
    } finally {
      await monitoring.close();
    }
  });

  it('rejects a metric query for a deployment, and logs of an unknown job', async () => {
    await expect(
      training.metrics({ target: { deployment: 'some-model' }, names: ['loss'] }),
    ).rejects.toMatchObject({
      code: 'InvalidSpec',
    });
    const reading = async () => {
      for await (const _ of training.logs('no-such-job')) return;
    };
    await expect(reading()).rejects.toMatchObject({ code: 'NotFound' });
  });
});
