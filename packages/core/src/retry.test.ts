import { describe, expect, it } from 'vitest';
import { MlscaleError } from './errors.js';
import { parseRetryAfter, retryDelayMs, withRetry } from './retry.js';

const throttled = (retryAfterMs?: number) =>
  new MlscaleError({
    code: 'Throttled',
    message: 'Rate exceeded',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

/** A sleep that records delays instead of waiting. */
function recordingSleep() {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (milliseconds: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new MlscaleError({ code: 'Aborted', message: 'aborted' });
      delays.push(milliseconds);
    },
  };
}

describe('withRetry', () => {
  it('retries throttling until it succeeds', async () => {
    const { delays, sleep } = recordingSleep();
    let attempts = 0;
    const result = await withRetry(
      async () => {
        attempts++;
        if (attempts < 3) throw throttled();
        return 'ok';
      },
      { sleep, random: () => 0.5, baseDelayMs: 100 },
    );
    expect(result).toBe('ok');
    expect(attempts).toBe(3);
    // Full jitter: random × min(max, base × 2^(attempt-1)).
    expect(delays).toEqual([50, 100]);
  });

  it('does not retry what is not retryable', async () => {
    const { delays, sleep } = recordingSleep();
    let attempts = 0;
    const error = await withRetry(
      async () => {
        attempts++;
        throw new MlscaleError({ code: 'InvalidSpec', message: 'bad' });
      },
      { sleep },
    ).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect(attempts).toBe(1);
    expect(delays).toEqual([]);
  });

  it('does not retry plain errors by default', async () => {
    let attempts = 0;
    await expect(
      withRetry(async () => {
        attempts++;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(attempts).toBe(1);
  });

  it('honours Retry-After as the least delay', async () => {
    const { delays, sleep } = recordingSleep();
    let attempts = 0;
    await withRetry(
      async () => {
        attempts++;
        if (attempts === 1) throw throttled(1500);
        return 'ok';
      },
      { sleep, random: () => 0, baseDelayMs: 100 },
    );
    expect(delays).toEqual([1500]);
  });

  it('gives up on a Retry-After longer than allowed', async () => {
    const { delays, sleep } = recordingSleep();
    const error = await withRetry(
      async () => {
        throw throttled(120_000);
      },
      { sleep, maxRetryAfterMs: 60_000 },
    ).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Throttled')).toBe(true);
    expect(delays).toEqual([]);
  });

  it('throws the last error after the last attempt', async () => {
    const { delays, sleep } = recordingSleep();
    let attempts = 0;
    const error = await withRetry(
      async () => {
        attempts++;
        throw throttled();
      },
      { sleep, maxAttempts: 4, random: () => 1 - Number.EPSILON, baseDelayMs: 100, maxDelayMs: 250 },
    ).catch((caught: unknown) => caught);
    expect(attempts).toBe(4);
    expect(MlscaleError.hasCode(error, 'Throttled')).toBe(true);
    expect(delays).toEqual([99, 199, 249]);
  });

  it('stops a pending backoff when aborted, with code Aborted', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const pending = withRetry(
      async () => {
        attempts++;
        throw throttled();
      },
      { signal: controller.signal, baseDelayMs: 10_000, random: () => 1 - Number.EPSILON },
    );
    setTimeout(() => controller.abort(), 20);
    const error = await pending.catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
    expect(attempts).toBe(1);
  });

  it('does not start when already aborted', async () => {
    let attempts = 0;
    const error = await withRetry(
      async () => {
        attempts++;
      },
      { signal: AbortSignal.abort() },
    ).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Aborted')).toBe(true);
    expect(attempts).toBe(0);
  });
});

describe('retry helpers', () => {
  it('caps the exponential delay', () => {
    expect(retryDelayMs(10, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).toBe(999);
  });

  it('parses Retry-After in seconds and as a date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 06:00:05 GMT', new Date('2026-11-29T06:00:00Z'))).toBe(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
