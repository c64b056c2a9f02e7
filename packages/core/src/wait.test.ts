import { describe, expect, it } from 'vitest';
import { MlscaleError } from './errors.js';
import { type WaitResult, waitFor } from './wait.js';

/** A fake clock whose sleep advances time. */
function fakeClock() {
  let now = 0;
  const delays: number[] = [];
  return {
    delays,
    now: () => now,
    sleep: async (milliseconds: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new MlscaleError({ code: 'Aborted', message: 'aborted' });
      delays.push(milliseconds);
      now += milliseconds;
    },
  };
}

function sequence<T>(results: WaitResult<T>[]) {
  let index = 0;
  return async () => results[Math.min(index++, results.length - 1)]!;
}

describe('waitFor', () => {
  it('returns the value on success, backing off between checks', async () => {
    const clock = fakeClock();
    const value = await waitFor({
      description: 'the endpoint',
      check: sequence<string>([{ state: 'RETRY' }, { state: 'RETRY' }, { state: 'SUCCESS', value: 'ready' }]),
      minDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 1,
      ...clock,
    });
    expect(value).toBe('ready');
    expect(clock.delays).toEqual([100, 200]);
  });

  it('starts the delays over when a check reports new progress, if asked', async () => {
    const checks: WaitResult<string>[] = [
      { state: 'RETRY', progress: 'creating the endpoint' },
      { state: 'RETRY', progress: 'creating the endpoint' },
      { state: 'RETRY', progress: 'creating the endpoint' },
      { state: 'RETRY', progress: 'deploying the model' },
      { state: 'RETRY', progress: 'deploying the model' },
      { state: 'SUCCESS', value: 'serving' },
    ];
    const steady = fakeClock();
    await waitFor({
      description: 'x',
      check: sequence(checks),
      minDelayMs: 100,
      maxDelayMs: 10_000,
      random: () => 1,
      ...steady,
    });
    expect(steady.delays).toEqual([100, 200, 400, 800, 1600]);
    const restarting = fakeClock();
    await waitFor({
      description: 'x',
      check: sequence(checks),
      minDelayMs: 100,
      maxDelayMs: 10_000,
      random: () => 1,
      restartDelaysOnProgress: true,
      ...restarting,
    });
    expect(restarting.delays).toEqual([100, 200, 400, 100, 200]);
  });

  it('throws the failure reason on a FAILURE state', async () => {
    const clock = fakeClock();
    const error = await waitFor({
      description: "deployment 'mnist' to be InService",
      check: sequence([{ state: 'RETRY' }, { state: 'FAILURE', reason: 'image not found' }]),
      ...clock,
    }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as Error).message).toContain("deployment 'mnist' to be InService: image not found");
  });

  it('times out with the last progress seen, never sleeping past the deadline', async () => {
    const clock = fakeClock();
    const error = await waitFor({
      description: 'the job',
      check: async () => ({ state: 'RETRY', progress: 'Downloading' }),
      minDelayMs: 400,
      maxDelayMs: 400,
      maxWaitMs: 1000,
      ...clock,
    }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Timeout')).toBe(true);
    expect((error as Error).message).toContain('last seen: Downloading');
    expect(clock.delays).toEqual([400, 400, 200]);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error = await waitFor({
      description: 'the endpoint',
      check: async () => ({ state: 'RETRY' }),
      minDelayMs: 10_000,
      signal: controller.signal,
    }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
  });

  it('lets errors thrown by the check end the wait', async () => {
    await expect(
      waitFor({
        description: 'x',
        check: async () => {
          throw new MlscaleError({ code: 'Unauthorized', message: 'expired token' });
        },
      }),
    ).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'Unauthorized'));
  });
});
