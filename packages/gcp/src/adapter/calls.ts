import { type MlscaleError, waitFor, withRetry } from '@mlscale/core';
import { statusError, vertexError } from './errors.js';
import type { VertexSettings } from './settings.js';

/** Runs one Google API call with the adapter's backoff: throttling always, transient errors for reads. */
export function callVertex<T>(
  settings: VertexSettings,
  what: string,
  run: () => Promise<T>,
  options: { signal?: AbortSignal | undefined; idempotent?: boolean } = {},
): Promise<T> {
  return withRetry(
    async () => {
      try {
        return await run();
      } catch (error) {
        throw vertexError(error, what);
      }
    },
    {
      ...settings.retry,
      ...(options.signal ? { signal: options.signal } : {}),
      // aiplatform methods are not idempotent: only RESOURCE_EXHAUSTED (nothing was done) is always safe to repeat.
      isRetryable: (error) => {
        const failure = error as MlscaleError;
        if (failure.code === 'Throttled') return true;
        return options.idempotent === true && failure.retryable;
      },
    },
  );
}

/** What `client.check<Method>Progress(name)` resolves to (a google-gax Operation). */
export interface OperationProgress<Result> {
  done?: boolean | null;
  error?: { code?: number | null; message?: string | null } | null;
  result?: Result | null;
}

/**
 * Polls a long-running operation until it is done, with core's waiter: no deadline of its own (the
 * caller's signal and timeout govern, since a Vertex deploy can take more than 15 minutes). An
 * operation that ends in error throws with the operation's message.
 */
export async function awaitOperation<Result>(
  settings: VertexSettings,
  what: string,
  check: () => Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<Result | undefined> {
  return waitFor<Result | undefined>({
    description: what,
    minDelayMs: settings.polling.minDelayMs,
    maxDelayMs: settings.polling.maxDelayMs,
    maxWaitMs: Number.MAX_SAFE_INTEGER,
    ...(signal ? { signal } : {}),
    check: async () => {
      const progress = (await callVertex(settings, `${what} (polling)`, check, {
        signal,
        idempotent: true,
      })) as OperationProgress<Result>;
      if (!progress.done) return { state: 'RETRY', progress: 'running' };
      if (progress.error) throw statusError(progress.error, what);
      return { state: 'SUCCESS', value: progress.result ?? undefined };
    },
  });
}
