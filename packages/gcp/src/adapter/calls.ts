import { MlscaleError, waitFor } from '@mlscale/core';
import { cloudCall, paginate } from '@mlscale/core/provider-utils';
import { statusError, vertexError } from './errors.js';
import type { VertexSettings } from './settings.js';

/**
 * Call options for every Google client call the adapter makes: no retries in google-gax (its defaults
 * retry reads and operation polls on UNAVAILABLE and DEADLINE_EXCEEDED), so the client's retry policy
 * is the one retry layer and each backend call costs one request per attempt.
 */
export const singleAttempt = { retry: null } as const;

/** `singleAttempt` for list calls read page by page (the adapter follows the tokens itself). */
export const singlePage = { retry: null, autoPaginate: false } as const;

/**
 * One Google API call: an abort before or during it throws `Aborted`, anything the client throws is
 * classified (`vertexError`). It does not retry.
 */
export function callVertex<T>(
  what: string,
  signal: AbortSignal | undefined,
  run: () => Promise<T>,
): Promise<T> {
  return cloudCall({ what, signal, classify: vertexError }, () => run());
}

/**
 * Every item of a paged Google list call (`listEndpoints`, `listModels`, `listOperations`, ... called
 * with `singlePage`, which resolves `[items, nextRequest, response]`), one request per page, stopping
 * when the service repeats a page token.
 */
export function listAll<Item>(
  what: string,
  signal: AbortSignal | undefined,
  fetch: (pageToken: string | undefined) => Promise<unknown>,
): AsyncGenerator<Item> {
  return paginate({
    fetch: (token) => callVertex(what, signal, () => fetch(token)),
    read: (page) => {
      const [items, , response] = page as [Item[] | null, unknown, { nextPageToken?: string | null } | null];
      return { items: items ?? [], nextToken: response?.nextPageToken };
    },
  });
}

/** Collects an async iterable into an array. */
export async function collect<Item>(items: AsyncIterable<Item>): Promise<Item[]> {
  const result: Item[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** A `google.longrunning.Operation` as `getOperation` and `listOperations` return it. */
export interface OperationState {
  name?: string | null;
  done?: boolean | null;
  error?: { code?: number | null; message?: string | null } | null;
  /** A `google.protobuf.Any`: its type names the RPC that started the operation. */
  metadata?: unknown;
  response?: { value?: Uint8Array | string | null } | null;
}

/**
 * Looks at a long-running operation (GetOperation, one request per look) until it is done or
 * `maxWaitMs` has passed, with core's waiter and the caller's signal: the operation as last seen, done
 * or still running. One that ended in error throws its refusal (`statusError`: not retryable, with the
 * operation's own message).
 */
export async function settleOperation(
  settings: VertexSettings,
  what: string,
  look: () => Promise<OperationState>,
  signal: AbortSignal | undefined,
  maxWaitMs: number,
): Promise<OperationState> {
  let last: OperationState | undefined;
  try {
    return await waitFor<OperationState>({
      description: what,
      minDelayMs: settings.polling.minDelayMs,
      maxDelayMs: settings.polling.maxDelayMs,
      maxWaitMs,
      ...(signal ? { signal } : {}),
      check: async () => {
        const operation = await callVertex('GetOperation', signal, look);
        last = operation;
        if (!operation.done) return { state: 'RETRY', progress: 'running' };
        if (operation.error?.code) throw statusError(operation.error, what);
        return { state: 'SUCCESS', value: operation };
      },
    });
  } catch (error) {
    // The waiter's own deadline: the operation runs on, and the caller decides what that means.
    if (last && !last.done && MlscaleError.hasCode(error, 'Timeout')) return last;
    throw error;
  }
}

/**
 * `settleOperation` with no deadline of its own (the caller's signal governs), for the model registry,
 * whose calls answer once the version exists. Deployment steps never call this.
 */
export async function awaitOperation(
  settings: VertexSettings,
  what: string,
  look: () => Promise<OperationState>,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  return settleOperation(settings, what, look, signal, Number.MAX_SAFE_INTEGER);
}
