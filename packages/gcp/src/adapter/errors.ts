import { MlscaleError, type MlscaleErrorCode, redactText } from '@mlscale/core';

export const provider = 'gcp';

/** gRPC status codes (google.rpc.Code) and what they mean to a caller. */
const codes: Record<number, { code: MlscaleErrorCode; retryable?: boolean }> = {
  1: { code: 'Aborted' }, // CANCELLED
  3: { code: 'InvalidSpec' }, // INVALID_ARGUMENT
  4: { code: 'BackendFailure', retryable: true }, // DEADLINE_EXCEEDED
  5: { code: 'NotFound' },
  6: { code: 'AlreadyExists' },
  7: { code: 'Unauthorized' }, // PERMISSION_DENIED
  8: { code: 'Throttled', retryable: true }, // RESOURCE_EXHAUSTED
  9: { code: 'Conflict' }, // FAILED_PRECONDITION
  10: { code: 'Conflict', retryable: true }, // ABORTED
  11: { code: 'InvalidSpec' }, // OUT_OF_RANGE
  12: { code: 'Unsupported' }, // UNIMPLEMENTED
  14: { code: 'BackendFailure', retryable: true }, // UNAVAILABLE
  16: { code: 'Unauthorized' }, // UNAUTHENTICATED
};

/** The gRPC status code of an error from google-gax, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** An error from a Google client as an MlscaleError, its message redacted and the call named. */
export function vertexError(error: unknown, what: string): MlscaleError {
  if (MlscaleError.isInstance(error)) return error;
  const code = grpcCode(error);
  const mapped = code === undefined ? undefined : codes[code];
  const raw = (error as { details?: unknown } | null)?.details;
  const detail =
    typeof raw === 'string' && raw ? raw : error instanceof Error ? error.message : String(error);
  return new MlscaleError({
    code: mapped?.code ?? 'BackendFailure',
    ...(mapped?.retryable === undefined ? {} : { retryable: mapped.retryable }),
    provider,
    message: `Vertex AI ${what} failed: ${redactText(detail)}`,
    cause: error,
  });
}

/** A `google.rpc.Status` from a finished operation or job, as an MlscaleError that keeps its message. */
export function statusError(
  status: { code?: number | null; message?: string | null },
  what: string,
): MlscaleError {
  const mapped = codes[status.code ?? 2];
  return new MlscaleError({
    code:
      mapped?.code === 'Throttled'
        ? 'QuotaExceeded'
        : mapped?.code === 'InvalidSpec'
          ? 'InvalidSpec'
          : 'BackendFailure',
    retryable: false,
    provider,
    message: `${what} failed: ${redactText(status.message || `status code ${status.code}`)}`,
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
