import type { CallOptionsV1 } from '../backend/v1/index.js';
import { toMlscaleError } from '../errors.js';
import { redactText } from '../redact.js';
import { type RetryOptions, withRetry } from '../retry.js';
import type { MlscaleEvent } from './events.js';
import type { Logger } from './logger.js';

/** Runs one backend call: the one retry layer of mlscale, errors normalized to MlscaleError. */
export type BackendCall = <T>(
  operation: string,
  target: string,
  signal: AbortSignal | undefined,
  run: (options: CallOptionsV1) => Promise<T>,
) => Promise<T>;

/**
 * The client's call wrapper. Backends do not retry (their SDKs make one attempt), so each backend call
 * is tried at most `retry.maxAttempts` times (default 5), and only for errors marked `retryable`:
 * throttling, and failures the adapter knows did nothing (5xx, dropped connections). Anything else,
 * an unexpected exception inside an adapter included, fails at once.
 */
export function createBackendCall(options: {
  provider: string;
  retry: Omit<RetryOptions, 'signal' | 'onRetry'> | false | undefined;
  logger: Logger;
  emit: (event: MlscaleEvent) => void;
}): BackendCall {
  return async (operation, target, signal, run) => {
    const callOptions: CallOptionsV1 = signal ? { signal } : {};
    const attempt = async () => {
      try {
        return await run(callOptions);
      } catch (error) {
        throw toMlscaleError(error, options.provider);
      }
    };
    if (options.retry === false) return attempt();
    return withRetry(attempt, {
      ...options.retry,
      ...(signal ? { signal } : {}),
      onRetry: ({ attempt: number, delayMs, error }) => {
        const message = redactText(error instanceof Error ? error.message : String(error));
        options.logger.warn(`retrying ${operation} ${target}`, { attempt: number, delayMs, error: message });
        options.emit({
          type: 'operation-retry',
          operation,
          target,
          time: new Date(),
          attempt: number,
          delayMs,
          error: message,
        });
      },
    });
  };
}
