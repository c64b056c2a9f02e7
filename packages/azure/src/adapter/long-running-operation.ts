import { abortedError, MlscaleError } from '@mlscale/core';
import { provider, toMlscaleError } from './to-mlscale-error.js';

/** What the SDK's `begin*` methods return (core-lro's PollerLike, the part used here). */
export interface PollerLike<Result> {
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<Result>;
  stopPolling(): void;
}

/** Timeout and abort for one long-running operation. */
export interface OperationWaitOptions {
  signal?: AbortSignal | undefined;
  /** Gives up with `Timeout` after this long. */
  timeoutMs: number;
  /** What is being waited for, for messages ("endpoint 'mnist' to be created"). */
  description: string;
}

/**
 * Waits on an SDK poller with core's semantics: an abort stops polling and throws `Aborted`, the timeout
 * throws `Timeout`, and a failed operation throws with Azure's code and message kept.
 */
export async function waitForOperation<Result>(
  start: (abortSignal: AbortSignal) => Promise<PollerLike<Result>>,
  options: OperationWaitOptions,
): Promise<Result> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) throw abortedError(options.signal, `Waiting for ${options.description}`);
    const poller = await start(controller.signal);
    try {
      return await poller.pollUntilDone({ abortSignal: controller.signal });
    } finally {
      poller.stopPolling();
    }
  } catch (error) {
    if (timedOut) {
      throw new MlscaleError({
        code: 'Timeout',
        provider,
        retryable: false,
        message: `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.description}. The operation may still finish in Azure; run the same call again to converge.`,
        cause: error,
      });
    }
    if (options.signal?.aborted) throw abortedError(options.signal, `Waiting for ${options.description}`);
    throw toMlscaleError(error, `Waiting for ${options.description}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
