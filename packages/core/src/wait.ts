import { abortedError, MlscaleError } from './errors.js';
import { sleep as defaultSleep } from './sleep.js';

/** What one check of a waiter found. */
export type WaitResult<T> =
  | { state: 'SUCCESS'; value: T }
  | { state: 'FAILURE'; reason: string; value?: T }
  | { state: 'RETRY'; value?: T; progress?: string };

export interface WaitOptions<T> {
  /** What is being waited for, for messages ("deployment 'mnist' to be InService"). */
  description: string;
  /** Looks once; never throws for "not there yet". Errors it throws end the wait. */
  check: (signal: AbortSignal | undefined) => Promise<WaitResult<T>>;
  /** Least delay between checks. Default 500 ms. */
  minDelayMs?: number;
  /** Most delay between checks. Default 15 s. */
  maxDelayMs?: number;
  /** Gives up with a `Timeout` MlscaleError after this long. Default 30 min. */
  maxWaitMs?: number;
  signal?: AbortSignal;
  /** Called after each RETRY check. */
  onProgress?: (result: WaitResult<T>, elapsedMs: number) => void;
  /**
   * Start the delays over at `minDelayMs` whenever a check reports new `progress`: for a wait that drives
   * work step by step (a reconcile loop), where a step that moved on is likely followed by another soon.
   * Default false (delays only grow, as the AWS SDK's waiters do).
   */
  restartDelaysOnProgress?: boolean;
  /** Clock and sleep, for tests. */
  now?: () => number;
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Checks until SUCCESS (returns its value), FAILURE (throws `BackendFailure` with the reason), the
 * deadline (throws `Timeout`) or abort (throws `Aborted`). Delays grow exponentially from min to max
 * with jitter, as the AWS SDK's waiters do, and never overshoot the deadline.
 */
export async function waitFor<T>(options: WaitOptions<T>): Promise<T> {
  const minDelayMs = options.minDelayMs ?? 500;
  const maxDelayMs = Math.max(minDelayMs, options.maxDelayMs ?? 15_000);
  const maxWaitMs = options.maxWaitMs ?? 30 * 60_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const { signal } = options;
  const started = now();
  let lastProgress: string | undefined;

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(signal, `Waiting for ${options.description}`);
    const progressBefore = lastProgress;
    const result = await options.check(signal);
    if (result.state === 'SUCCESS') return result.value;
    if (result.state === 'FAILURE') {
      throw new MlscaleError({
        code: 'BackendFailure',
        message: `Gave up waiting for ${options.description}: ${result.reason}`,
        retryable: false,
      });
    }
    if (result.progress) lastProgress = result.progress;
    if (options.restartDelaysOnProgress && attempt > 1 && lastProgress !== progressBefore) attempt = 1;
    const elapsed = now() - started;
    options.onProgress?.(result, elapsed);
    const remaining = maxWaitMs - elapsed;
    if (remaining <= 0) {
      throw new MlscaleError({
        code: 'Timeout',
        message: `Timed out after ${Math.round(elapsed / 1000)} s waiting for ${options.description}${
          lastProgress ? ` (last seen: ${lastProgress})` : ''
        }. Raise the timeout, or pass wait: false and check later.`,
        retryable: false,
      });
    }
    const exponential = Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
    const delay = Math.min(remaining, minDelayMs + random() * (exponential - minDelayMs));
    try {
      await sleep(delay, signal);
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal, `Waiting for ${options.description}`);
      throw error;
    }
  }
}
