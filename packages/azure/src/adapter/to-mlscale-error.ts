import { MlscaleError, type MlscaleErrorCode, parseRetryAfter, redactText } from '@mlscale/core';

/** The provider id every error from this package carries. */
export const provider = 'azure';

interface RestErrorLike {
  name: string;
  message: string;
  code?: string;
  statusCode?: number;
  response?: { headers?: { get(name: string): string | undefined } };
}

function isRestError(error: unknown): error is RestErrorLike {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'RestError';
}

const quotaCodes = /quota|limitexceeded|notenoughcores|outofcapacity/i;

/**
 * 409 codes that mean "an operation is already running on the resource": ARM's `RequestConflict` for a
 * resource whose provisioning state is not terminal, and the `AnotherOperationInProgress` some providers
 * answer. The same request can succeed once that operation ends, so it is retried; any other 409 (the
 * resource is being deleted, it exists already) is a refusal.
 */
const operationInProgressCodes = new Set([
  'requestconflict',
  'anotheroperationinprogress',
  'operationinprogress',
]);

/** Whether an Azure answer says an operation in progress on the resource refused this one for now. */
function isOperationInProgress(statusCode: number | undefined, serviceCode: string | undefined): boolean {
  return statusCode === 409 && operationInProgressCodes.has((serviceCode ?? '').toLowerCase());
}

function codeFor(statusCode: number | undefined, serviceCode: string | undefined): MlscaleErrorCode {
  if (serviceCode && quotaCodes.test(serviceCode)) return 'QuotaExceeded';
  switch (statusCode) {
    case 400:
    case 422:
      return 'InvalidSpec';
    case 401:
    case 403:
      return 'Unauthorized';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 429:
      return 'Throttled';
    default:
      return 'BackendFailure';
  }
}

/**
 * Any error from the Azure SDK as an MlscaleError: `RestError` status codes become codes, the service's
 * own code stays in the message, a Retry-After is kept, and secrets are masked.
 */
export function toMlscaleError(error: unknown, what: string): MlscaleError {
  if (MlscaleError.isInstance(error)) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new MlscaleError({ code: 'Aborted', provider, message: `${what} was aborted.`, cause: error });
  }
  if (isRestError(error)) {
    const code = codeFor(error.statusCode, error.code);
    const headers = error.response?.headers;
    // ARM sends Retry-After in seconds; some services send milliseconds in their own headers.
    const millisecondsHeader = headers?.get('retry-after-ms') ?? headers?.get('x-ms-retry-after-ms');
    const milliseconds = millisecondsHeader ? Number(millisecondsHeader) : Number.NaN;
    const retryAfterMs =
      Number.isFinite(milliseconds) && milliseconds >= 0
        ? milliseconds
        : parseRetryAfter(headers?.get('retry-after'));
    return new MlscaleError({
      code,
      provider,
      message: redactText(
        `${what} failed: Azure answered ${error.statusCode ?? 'without a status'}${error.code ? ` ${error.code}` : ''}: ${error.message}`,
      ),
      cause: error,
      ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      // A 5xx, a timeout or a connection failure (no status) may pass, and so does an operation that
      // holds the resource; another 4xx (but 408 and 429) will not.
      retryable:
        isTransient(error.statusCode) ||
        code === 'Throttled' ||
        isOperationInProgress(error.statusCode, error.code),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('The long-running operation has failed')) {
    // core-lro's text keeps the service's code and message: "... has failed. {code}. {message}".
    return new MlscaleError({
      code: quotaCodes.test(message) ? 'QuotaExceeded' : 'BackendFailure',
      provider,
      retryable: false,
      message: redactText(`${what} failed: ${message}`),
      cause: error,
    });
  }
  return new MlscaleError({
    code: 'BackendFailure',
    provider,
    message: redactText(`${what} failed: ${message}`),
    cause: error,
  });
}

/** Answers that mean Azure did not act: no answer at all (a dropped connection), 408, or a 5xx. */
function isTransient(statusCode: number | undefined): boolean {
  return statusCode === undefined || statusCode === 408 || statusCode >= 500;
}

/** Whether an SDK error is a 404. */
export function isNotFound(error: unknown): boolean {
  return isRestError(error) && error.statusCode === 404;
}
