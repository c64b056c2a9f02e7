import { MlscaleError, type MlscaleErrorCode, redactText } from '@mlscale/core';

export const provider = 'gcp';

/**
 * gRPC status codes (google.rpc.Code): what each means to a caller, whether the same request may
 * succeed later (the service did nothing: it was unavailable, timed out, failed internally, or was
 * throttled), and the HTTP status Google's REST surface answers with.
 */
const codes: Record<number, { code: MlscaleErrorCode; retryable: boolean; statusCode: number }> = {
  1: { code: 'Aborted', retryable: false, statusCode: 499 }, // CANCELLED
  2: { code: 'BackendFailure', retryable: false, statusCode: 500 }, // UNKNOWN
  3: { code: 'InvalidSpec', retryable: false, statusCode: 400 }, // INVALID_ARGUMENT
  4: { code: 'BackendFailure', retryable: true, statusCode: 504 }, // DEADLINE_EXCEEDED
  5: { code: 'NotFound', retryable: false, statusCode: 404 },
  6: { code: 'AlreadyExists', retryable: false, statusCode: 409 },
  7: { code: 'Unauthorized', retryable: false, statusCode: 403 }, // PERMISSION_DENIED
  8: { code: 'Throttled', retryable: true, statusCode: 429 }, // RESOURCE_EXHAUSTED
  9: { code: 'Conflict', retryable: false, statusCode: 400 }, // FAILED_PRECONDITION
  10: { code: 'Conflict', retryable: true, statusCode: 409 }, // ABORTED (a concurrency conflict)
  11: { code: 'InvalidSpec', retryable: false, statusCode: 400 }, // OUT_OF_RANGE
  12: { code: 'Unsupported', retryable: false, statusCode: 501 }, // UNIMPLEMENTED
  13: { code: 'BackendFailure', retryable: true, statusCode: 500 }, // INTERNAL
  14: { code: 'BackendFailure', retryable: true, statusCode: 503 }, // UNAVAILABLE
  16: { code: 'Unauthorized', retryable: false, statusCode: 401 }, // UNAUTHENTICATED
};

/** HTTP statuses (Cloud Storage's JSON API answers with them) as gRPC codes. */
function fromHttpStatus(status: number): number | undefined {
  if (status === 400) return 3;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 5;
  if (status === 409) return 6;
  if (status === 412) return 9;
  if (status === 429) return 8;
  if (status === 503) return 14;
  if (status === 504) return 4;
  if (status >= 500) return 13;
  return undefined;
}

/** Socket errors: the request may never have reached the service. */
const connectionErrors = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** The gRPC status code of an error from google-gax, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * An error from a Google client as an MlscaleError: its code, whether a retry may help, the HTTP
 * status, the call named, the message redacted. Errors without a gRPC code (a bug, a TypeError) are not
 * retryable.
 */
export function vertexError(error: unknown, what: string): MlscaleError {
  if (MlscaleError.isInstance(error)) return error;
  const reported = grpcCode(error);
  const code =
    reported !== undefined && reported >= 100
      ? fromHttpStatus(reported)
      : (reported ??
        (connectionErrors.has(String((error as { code?: unknown } | null)?.code)) ? 14 : undefined));
  const mapped = code === undefined ? undefined : codes[code];
  const raw = (error as { details?: unknown } | null)?.details;
  const detail =
    typeof raw === 'string' && raw ? raw : error instanceof Error ? error.message : String(error);
  // Cloud Storage, Monitoring and Logging calls name their service; the rest are Vertex AI's.
  const subject = what.startsWith('Cloud ') ? what : `Vertex AI ${what}`;
  return new MlscaleError({
    code: mapped?.code ?? 'BackendFailure',
    retryable: mapped?.retryable ?? false,
    ...(mapped
      ? { statusCode: reported !== undefined && reported >= 100 ? reported : mapped.statusCode }
      : {}),
    provider,
    message: `${subject} failed: ${redactText(detail)}`,
    cause: error,
  });
}

/**
 * A `google.rpc.Status` from a finished operation or job, as an MlscaleError that keeps its message. A
 * failed operation is an answer, not a dropped call: it is not retried.
 */
export function statusError(
  status: { code?: number | null; message?: string | null },
  what: string,
): MlscaleError {
  const mapped = codes[status.code ?? 2];
  return new MlscaleError({
    code:
      mapped?.code === 'Throttled'
        ? 'QuotaExceeded'
        : mapped?.code === 'InvalidSpec' || mapped?.code === 'Unauthorized'
          ? mapped.code
          : 'BackendFailure',
    retryable: false,
    ...(mapped ? { statusCode: mapped.statusCode } : {}),
    provider,
    message: `${what} failed: ${redactText(status.message || `status code ${status.code}`)}`,
  });
}

/**
 * A write refused because the etag it sent is stale, as a retryable Conflict. AIP-154 has such a write
 * answered ABORTED (already retryable); an older revision of it said FAILED_PRECONDITION, which is taken
 * the same way when its message names the etag (⚠ Vertex does not document which it answers).
 */
export function staleEtagConflict(error: unknown, endpoint: string): MlscaleError | undefined {
  if (!MlscaleError.isInstance(error)) return undefined;
  const aborted = error.code === 'Conflict' && error.retryable;
  const precondition = error.code === 'Conflict' && /\betag\b/i.test(error.message);
  if (!aborted && !precondition) return undefined;
  return new MlscaleError({
    code: 'Conflict',
    provider,
    retryable: true,
    statusCode: error.statusCode ?? 409,
    message: `${error.message} (endpoint ${endpoint} changed since this step read it; the step is taken again from a fresh read)`,
    cause: error,
  });
}

/** An `InvalidSpec` error naming one field. */
export function invalidSpec(path: string, message: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    provider,
    message: `Invalid spec for Vertex AI:\n  - ${path}: ${message}`,
    issues: [{ path, message }],
  });
}
