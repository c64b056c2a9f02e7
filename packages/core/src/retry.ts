import { abortedError, MlscaleError } from './errors.js';
import { sleep } from './sleep.js';

/** How calls are retried. One policy for every backend. */
export interface RetryOptions {
  /** Total attempts, the first included. Default 5. */
  maxAttempts?: number;
  /** The backoff's base delay. Default 200 ms. */
  baseDelayMs?: number;
  /** The cap on one backoff delay. Default 20 s. */
  maxDelayMs?: number;
  /** The cap on a backend's Retry-After: longer requests are not honoured (the error is thrown). Default 60 s. */
  maxRetryAfterMs?: number;
  /** Stops retrying (and a pending backoff) when aborted. */
  signal?: AbortSignal;
  /** Decides what is retryable. Default: `MlscaleError.retryable`; other errors are not retried. */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each backoff. */
  onRetry?: (event: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Random source in [0, 1), for tests. */
  random?: () => number;
  /** Sleep, for tests. */
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
}

/** The delay before retry number `attempt` (1-based): full jitter over an exponential cap, at least Retry-After. */
export function retryDelayMs(
  attempt: number,
  options: {
    baseDelayMs: number;
    maxDelayMs: number;
    retryAfterMs?: number | undefined;
    random: () => number;
  },
): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(options.random() * exponential);
  return Math.max(jittered, options.retryAfterMs ?? 0);
}

/**
 * Runs `operation`, retrying what is retryable with exponential backoff and full jitter. A backend's
 * Retry-After (`MlscaleError.retryAfterMs`) sets the least delay. Non-retryable errors and aborts end it
 * at once; after the last attempt the last error is thrown.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 20_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const isRetryable =
    options.isRetryable ?? ((error: unknown) => MlscaleError.isInstance(error) && error.retryable);
  const random = options.random ?? Math.random;
  const wait = options.sleep ?? sleep;
  const { signal } = options;

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(signal, 'The operation');
    try {
      return await operation(attempt);
    } catch (error) {
      // An Aborted error from the operation itself says more (what it had done) than a generic one.
      if (signal?.aborted) {
        throw MlscaleError.hasCode(error, 'Aborted') ? error : abortedError(signal, 'The operation');
      }
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const retryAfterMs = MlscaleError.isInstance(error) ? error.retryAfterMs : undefined;
      if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) throw error;
      const delayMs = retryDelayMs(attempt, { baseDelayMs, maxDelayMs, retryAfterMs, random });
      options.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs, signal);
    }
  }
}

/** Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  header: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
