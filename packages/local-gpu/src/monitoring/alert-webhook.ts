import { MlscaleError, parseRetryAfter, type RetryOptions, redactText, withRetry } from '@mlscale/core';
import type { AlertEvent } from './alert-state.js';

/** The JSON body POSTed to an alert's webhook. */
export interface AlertWebhookPayload {
  /** `alert.firing` or `alert.resolved`. */
  type: 'alert.firing' | 'alert.resolved';
  alert: string;
  target: { deployment: string } | { job: string };
  metric: string;
  stat: string;
  comparator: string;
  threshold: number;
  forSeconds: number;
  periodSeconds: number;
  /** The value that decided it; `null` when there was no data. */
  value: number | null;
  /** ISO 8601. */
  time: string;
}

/** Delivers webhook POSTs in the background, retried with core's backoff, in order per URL. */
export interface WebhookSender {
  /** Queues a delivery and returns at once; failures go to `onError`, never to the caller. */
  send(url: string, payload: AlertWebhookPayload): void;
  /** Resolves when every queued delivery has finished (delivered or given up). */
  idle(): Promise<void>;
  /** Stops pending retries. */
  close(): void;
}

/** Options for `createWebhookSender`. */
export interface WebhookSenderOptions {
  /** Retry policy (core's `withRetry`); default 6 attempts from 500 ms up to 30 s. */
  retry?: Omit<RetryOptions, 'signal' | 'isRetryable'>;
  /** Per-attempt timeout. Default 10 s. */
  attemptTimeoutMs?: number;
  /** Called when a delivery is given up, with a message free of secrets. */
  onError?: (message: string, error: unknown) => void;
  /** Called after a delivery succeeds, with the number of attempts it took. */
  onDelivered?: (url: string, attempts: number) => void;
}

/** Deliveries queued for one URL at most; past it new events are dropped (a dead receiver cannot grow memory). */
export const maximumPendingPerUrl = 100;

/** The payload for an alert event. */
export function alertWebhookPayload(event: AlertEvent): AlertWebhookPayload {
  const { rule } = event;
  return {
    type: event.type === 'firing' ? 'alert.firing' : 'alert.resolved',
    alert: rule.name,
    target: rule.target,
    metric: rule.metric,
    stat: rule.stat,
    comparator: rule.comparator,
    threshold: rule.threshold,
    forSeconds: rule.forSeconds,
    periodSeconds: rule.periodSeconds,
    value: event.value,
    time: event.time.toISOString(),
  };
}

export function createWebhookSender(options: WebhookSenderOptions = {}): WebhookSender {
  const controller = new AbortController();
  const chains = new Map<string, Promise<void>>();
  const pendingByUrl = new Map<string, number>();
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;

  async function post(url: string, body: string): Promise<number> {
    let attempts = 0;
    await withRetry(
      async () => {
        attempts += 1;
        let response: Response;
        try {
          response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'mlscale-alerts' },
            body,
            signal: AbortSignal.any([controller.signal, AbortSignal.timeout(attemptTimeoutMs)]),
          });
        } catch (error) {
          throw new MlscaleError({
            code: 'BackendFailure',
            provider: 'local',
            message: `Webhook delivery to ${redactText(url)} failed: ${redactText(error instanceof Error ? error.message : String(error))}`,
            cause: error,
          });
        }
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return;
        const retryable = response.status === 429 || response.status === 408 || response.status >= 500;
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        throw new MlscaleError({
          code: response.status === 429 ? 'Throttled' : 'BackendFailure',
          provider: 'local',
          retryable,
          statusCode: response.status,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          message: `Webhook ${redactText(url)} answered HTTP ${response.status}.`,
        });
      },
      {
        maxAttempts: 6,
        baseDelayMs: 500,
        maxDelayMs: 30_000,
        ...options.retry,
        signal: controller.signal,
      },
    );
    return attempts;
  }

  return {
    send(url, payload) {
      const pending = pendingByUrl.get(url) ?? 0;
      if (pending >= maximumPendingPerUrl) {
        options.onError?.(
          `Alert webhook ${redactText(url)} has ${pending} deliveries pending; dropped ${payload.type} for "${payload.alert}".`,
          undefined,
        );
        return;
      }
      pendingByUrl.set(url, pending + 1);
      const body = JSON.stringify(payload);
      const previous = chains.get(url) ?? Promise.resolve();
      const next = previous
        .then(() => post(url, body))
        .then(
          (attempts) => options.onDelivered?.(url, attempts),
          (error: unknown) => {
            if (controller.signal.aborted) return;
            const reason = error instanceof Error ? error.message : String(error);
            options.onError?.(
              `Alert webhook ${redactText(url)} gave up on ${payload.type} for "${payload.alert}": ${redactText(reason)}`,
              error,
            );
          },
        );
      chains.set(url, next);
      void next.then(() => {
        const left = (pendingByUrl.get(url) ?? 1) - 1;
        if (left > 0) pendingByUrl.set(url, left);
        else pendingByUrl.delete(url);
        if (chains.get(url) === next) chains.delete(url);
      });
    },
    async idle() {
      while (chains.size > 0) await Promise.all(chains.values());
    },
    close() {
      controller.abort(
        new MlscaleError({ code: 'Aborted', provider: 'local', message: 'Monitoring closed.' }),
      );
    },
  };
}
