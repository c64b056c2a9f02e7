import { MlscaleError, type MlscaleErrorCode, redactText } from '@mlscale/core';

const notFoundMessage = /could not find|not found|does not exist|no scalable target|no scaling policy/i;
const throttlingNames = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ModelNotReadyException',
  'SlowDown',
]);
/**
 * An account quota is used up: SageMaker's ResourceLimitExceeded; Application Auto Scaling's and
 * CloudWatch Logs' LimitExceededException (too many scalable targets, policies, log groups: not a rate);
 * CloudWatch's LimitExceededFault (too many alarms) and LimitExceededException (a query too large).
 * Asking again does not help until the quota is raised or something is deleted.
 */
const quotaNames = new Set([
  'ResourceLimitExceeded',
  'ServiceQuotaExceededException',
  'LimitExceededException',
  'LimitExceededFault',
  'LimitExceeded',
]);
/**
 * A request the service cannot accept as sent: validation errors (SageMaker's and Application Auto
 * Scaling's ValidationException, CloudWatch's in query-compatible mode, and its ValidationError),
 * CloudWatch's parameter refusals (in the SDK's names and the query protocol's), CloudWatch Logs'
 * InvalidParameterException, and a body SageMaker could not read (SerializationException).
 */
const invalidRequestNames = new Set([
  'ValidationException',
  'ValidationError',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'InvalidParameterCombinationException',
  'MissingParameter',
  'MissingRequiredParameterException',
  'InvalidParameterException',
  'SerializationException',
]);
const unauthorizedNames = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'NotAuthorized',
  'CredentialsProviderError',
]);

/** AWS secrets redactText does not know: access key ids, SigV4 credentials and signatures anywhere in text. */
const awsSecretsInText = [
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /(Credential=)[^\s,&)"']+/gi,
  /(Signature=)[0-9a-f]{16,}/gi,
  /(X-Amz-Security-Token=)[^\s&"']+/gi,
];

/** Masks secrets in a message from AWS, on top of core's `redactText`. */
export function redactAwsText(text: string): string {
  let result = redactText(text);
  for (const pattern of awsSecretsInText) {
    result = result.replace(pattern, (match, prefix?: string) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}[redacted]` : '[redacted]',
    );
  }
  return result;
}

/**
 * The SDK error without what could leak a secret: `$response` holds the raw HTTP exchange (the
 * request's Authorization header included), and the message may quote credentials.
 */
function sanitized(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const record = error as Record<string, unknown>;
  if ('$response' in record) {
    try {
      Object.defineProperty(record, '$response', {
        value: undefined,
        enumerable: false,
        configurable: true,
        writable: true,
      });
    } catch {
      // The field cannot be hidden: a copy with the name, message and metadata stands in as the cause.
      const copy = new Error(redactAwsText(String(record.message ?? error)));
      copy.name = String(record.name ?? 'Error');
      return Object.assign(copy, { $metadata: record.$metadata, $fault: record.$fault });
    }
  }
  if (typeof record.message === 'string') {
    try {
      record.message = redactAwsText(record.message);
    } catch {
      // Read-only message: left as is.
    }
  }
  return error;
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  OriginalStatusCode?: number;
  OriginalMessage?: string;
}

/** Errors of the HTTP client itself: the request timed out or the connection broke before an answer. */
const transportNames = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);
const transportCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/**
 * "Cannot update in-progress endpoint" and Application Auto Scaling's "is in status Updating": the
 * endpoint is busy with another operation (a scaling activity, another process's update). The request
 * was not acted on and will succeed once the endpoint is InService again.
 */
const busyMessage = /in-progress endpoint|is in status (Creating|Updating|SystemUpdating|RollingBack)/i;

/**
 * Whether asking again may succeed: throttling, the service's own failures (5xx, `$fault: 'server'`),
 * timeouts and broken connections, and a busy endpoint. Refusals (access denied, validation, quotas,
 * a model's own error) and anything unrecognised are not retried.
 */
export function isRetryableAwsError(code: MlscaleErrorCode, shape: AwsErrorShape, message: string): boolean {
  if (code === 'Throttled') return true;
  if (shape.name === 'ModelError') return false;
  if (code === 'Unauthorized' || code === 'InvalidSpec' || code === 'QuotaExceeded') return false;
  if (code === 'Conflict') return busyMessage.test(message) || shape.name === 'ConcurrentUpdateException';
  const status = shape.$metadata?.httpStatusCode;
  if (code === 'BackendFailure') {
    if (shape.$fault === 'server' || (status !== undefined && status >= 500)) return true;
    if (transportNames.has(shape.name ?? '') || transportCodes.has(shape.code ?? '')) return true;
    return /socket hang up/i.test(message);
  }
  return false;
}

/** The MlscaleError code an AWS error stands for. */
export function awsErrorCode(name: string, message: string, status: number | undefined): MlscaleErrorCode {
  if (name === 'AbortError') return 'Aborted';
  if (throttlingNames.has(name) || status === 429) return 'Throttled';
  if (quotaNames.has(name)) return 'QuotaExceeded';
  if (unauthorizedNames.has(name) || status === 401 || status === 403) return 'Unauthorized';
  if (
    [
      'ResourceNotFound',
      'ResourceNotFoundException',
      'ObjectNotFoundException',
      'NoSuchKey',
      'NotFound',
    ].includes(name)
  )
    return 'NotFound';
  if (/already exist/i.test(message)) return 'AlreadyExists';
  if (name === 'ResourceInUse' || name === 'ConflictException' || name === 'ConcurrentUpdateException')
    return 'Conflict';
  if ((name === 'ValidationException' || name === 'ValidationError') && busyMessage.test(message))
    return 'Conflict';
  if ((name === 'ValidationException' || name === 'ValidationError') && notFoundMessage.test(message))
    return 'NotFound';
  if (invalidRequestNames.has(name)) return 'InvalidSpec';
  return 'BackendFailure';
}

/**
 * An AWS SDK error as an MlscaleError: the code callers branch on, whether asking again may help
 * (`isRetryableAwsError`: the client's retry policy is the one layer that acts on it), the service's
 * message (secrets removed) with the error name and AWS request id, and the original as `cause`.
 */
export function fromAwsError(error: unknown, service: string, operation: string): MlscaleError {
  if (MlscaleError.isInstance(error)) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const name = shape.name ?? 'Error';
  const rawMessage = shape.message ?? String(error);
  const status = shape.$metadata?.httpStatusCode;
  const requestId = shape.$metadata?.requestId;
  const code = awsErrorCode(name, rawMessage, status);
  const detail = [
    name,
    status ? `HTTP ${status}` : undefined,
    requestId ? `request id ${requestId}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  let message = redactAwsText(rawMessage);
  if (name === 'ModelError' && shape.OriginalMessage) {
    message = `the model answered ${shape.OriginalStatusCode ?? 'an error'}: ${redactAwsText(shape.OriginalMessage)}`;
  }
  return new MlscaleError({
    code,
    provider: 'aws',
    message: `${service} ${operation} failed: ${message} (${detail})`,
    cause: sanitized(error),
    ...(status ? { statusCode: status } : {}),
    retryable: isRetryableAwsError(code, shape, rawMessage),
  });
}
