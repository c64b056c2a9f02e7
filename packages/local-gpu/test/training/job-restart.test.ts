import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTraining } from '../../src/training/index.js';
import {
  fixtureCommand,
  fixturesDirectory,
  processesOf,
  runTypeScript,
  temporaryDirectory,
} from './training-fixtures.js';

describe('jobs after a restart of the program', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  const orphanPids: number[] = [];

  beforeAll(async () => {
    directory = await temporaryDirectory('restart');
  });

  afterAll(async () => {
    // The orphaned job's process ends by itself after 4 s; do not leave it to chance.
    for (const pid of orphanPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await directory.remove();
  });

  it('lists finished jobs, with their metrics, from a new instance', async () => {
    const first = createLocalTraining({ root: directory.path });
    await first.doCreate(
      {
        name: 'finished-earlier',
        command: fixtureCommand('ticker.mjs'),
        environment: { TICKS: '3', TICK_MS: '20' },
        metricDefinitions: [{ name: 'tick', regex: 'tick=(\\d+)' }],
      } as never,
      {},
    );
    const done = await first.waitUntilFinished('finished-earlier', { timeoutMs: 30_000 });
    expect(done.state).toBe('Completed');
    await first.close();

    const second = createLocalTraining({ root: directory.path });
    const listed = [];
    for await (const status of second.doList({})) listed.push(status);
    expect(listed.map((status) => [status.name, status.state, status.finalMetrics])).toEqual([
      ['finished-earlier', 'Completed', { tick: 3 }],
    ]);
    expect(listed[0]?.createdAt).toEqual(done.createdAt);
    await second.close();
  });

  it('reports a job whose program died as Failed (Interrupted), not Running forever', async () => {
    const result = await runTypeScript(join(fixturesDirectory, 'start-job-and-exit.ts'), [
      directory.path,
      'orphaned',
      join(fixturesDirectory, 'ticker.mjs'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const training = createLocalTraining({ root: directory.path });
    const status = await training.doGet('orphaned', {});
    const pid = processesOf(status)[0]?.pid;
    if (pid) orphanPids.push(pid);
    expect(status?.state).toBe('Failed');
    expect(status?.secondaryStatus).toBe('Interrupted');
    expect(status?.failureReason).toContain('ended while the job was Running');
    // The verdict is kept on disk.
    const again = createLocalTraining({ root: directory.path });
    expect((await again.doGet('orphaned', {}))?.state).toBe('Failed');
    await expect(again.doStop('orphaned', {})).resolves.toMatchObject({ state: 'Failed' });
  });
});
