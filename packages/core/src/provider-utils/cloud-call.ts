import { abortedError, type MlscaleError } from '../errors.js';

/** How `cloudCall` runs one request to a cloud API. */
export interface CloudCallOptions {
  /** What the call does, for messages ("SageMaker UpdateEndpoint"). */
  what: string;
  signal?: AbortSignal | undefined;
  /**
   * Turns the SDK's error into an MlscaleError with its code and `retryable` set: throttling and
   * answers that mean nothing was done (5xx, a dropped connection) are retryable, refusals are not.
   */
  classify: (error: unknown, what: string) => MlscaleError;
}

/**
 * One cloud request with mlscale's semantics: an abort (before or during the call) throws `Aborted`,
 * anything else the SDK throws is classified. It does not retry: the client's retry policy is the one
 * retry layer, and adapters set their SDKs to a single attempt, so the attempts a request gets are the
 * client's `retry.maxAttempts` and no more.
 */
export async function cloudCall<T>(
  options: CloudCallOptions,
  run: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (options.signal?.aborted) throw abortedError(options.signal, options.what);
  try {
    return await run(options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw abortedError(options.signal, options.what);
    throw options.classify(error, options.what);
  }
}
