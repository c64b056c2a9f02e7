import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTraining, type LocalTraining } from '../../src/training/index.js';
import { fixtureCommand, processesOf, temporaryDirectory, transitionsOf } from './training-fixtures.js';

describe('stopping a job', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let training: LocalTraining;

  beforeAll(async () => {
    directory = await temporaryDirectory('stop');
    training = createLocalTraining({ root: directory.path, stopGraceSeconds: 1 });
  });

  afterAll(async () => {
    await training.close();
    await directory.remove();
  });

  async function waitForLine(name: string, text: string): Promise<void> {
    for await (const entry of training.logs(name, { follow: true })) if (entry.message.includes(text)) return;
    throw new Error(`job ${name} ended before logging ${text}`);
  }

  it('sends SIGTERM and ends Stopped', async () => {
    await training.doCreate({ name: 'stop-me', command: fixtureCommand('ticker.mjs') } as never, {});
    await waitForLine('stop-me', 'tick=2');
    const stopping = await training.doStop('stop-me', {});
    expect(['Stopping', 'Stopped']).toContain(stopping.state);
    const status = await training.waitUntilFinished('stop-me', { timeoutMs: 30_000 });
    expect(status.state).toBe('Stopped');
    expect(status.secondaryStatus).toBe('Stopped');
    expect(status.failureReason).toBeUndefined();
    const lines = [];
    for await (const entry of training.logs('stop-me')) lines.push(entry.message);
    expect(lines).toContain('received SIGTERM');
    // Stopping a stopped job changes nothing.
    expect((await training.doStop('stop-me', {})).state).toBe('Stopped');
  });

  it('sends SIGKILL after the grace period to a process that ignores SIGTERM', async () => {
    await training.doCreate(
      {
        name: 'stubborn',
        command: fixtureCommand('ticker.mjs'),
        environment: { IGNORE_SIGTERM: '1' },
      } as never,
      {},
    );
    await waitForLine('stubborn', 'tick=1');
    await training.doStop('stubborn', {});
    const status = await training.waitUntilFinished('stubborn', { timeoutMs: 30_000 });
    expect(status.state).toBe('Stopped');
    expect(processesOf(status)[0]?.signal).toBe('SIGKILL');
  });

  it('stops a job past maxRuntimeSeconds as MaxRuntimeExceeded', async () => {
    await training.doCreate(
      { name: 'too-long', command: fixtureCommand('ticker.mjs'), maxRuntimeSeconds: 1 } as never,
      {},
    );
    const status = await training.waitUntilFinished('too-long', { timeoutMs: 30_000 });
    expect(status.state).toBe('Stopped');
    expect(status.secondaryStatus).toBe('MaxRuntimeExceeded');
    expect(status.failureReason).toContain('maxRuntimeSeconds (1 s)');
    expect(status.trainingSeconds).toBeGreaterThanOrEqual(1);
    const transitions = transitionsOf(status);
    expect(transitions).toEqual(['Starting', 'Downloading', 'Training', 'MaxRuntimeExceeded']);
  });

  it('throws NotFound for an unknown job', async () => {
    await expect(training.doStop('no-such-job', {})).rejects.toMatchObject({ code: 'NotFound' });
  });
});
