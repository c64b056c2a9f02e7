import { RestError } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { toMlscaleError } from './to-mlscale-error.js';

function restError(
  statusCode: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): RestError {
  return new RestError(message, {
    code,
    statusCode,
    response: { headers: { get: (name: string) => headers[name.toLowerCase()] } } as never,
  });
}

describe('toMlscaleError', () => {
  it.each([
    [400, 'BadArgument', 'InvalidSpec', false],
    [401, 'AuthenticationFailed', 'Unauthorized', false],
    [403, 'AuthorizationFailed', 'Unauthorized', false],
    [404, 'ResourceNotFound', 'NotFound', false],
    [409, 'Conflict', 'Conflict', false],
    // An operation in progress on the resource: the same request goes through once it ends.
    [409, 'RequestConflict', 'Conflict', true],
    [409, 'AnotherOperationInProgress', 'Conflict', true],
    [429, 'TooManyRequests', 'Throttled', true],
    [500, 'InternalServerError', 'BackendFailure', true],
    [503, 'ServiceUnavailable', 'BackendFailure', true],
    [408, 'RequestTimeout', 'BackendFailure', true],
    [422, 'UnprocessableEntity', 'InvalidSpec', false],
    [400, 'QuotaExceeded', 'QuotaExceeded', false],
  ] as const)('maps %i %s to %s', (status, code, expected, retryable) => {
    const error = toMlscaleError(restError(status, code, 'it went wrong'), 'Creating endpoint x');
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.provider).toBe('azure');
    expect(error.statusCode).toBe(status);
    expect(error.message).toBe(`Creating endpoint x failed: Azure answered ${status} ${code}: it went wrong`);
  });

  it('keeps Retry-After and masks secrets', () => {
    const error = toMlscaleError(
      restError(
        429,
        'TooManyRequests',
        'slow down; see https://x.blob.core.windows.net/c?sv=1&sig=SECRETSIG',
        { 'retry-after': '3' },
      ),
      'Listing',
    );
    expect(error.retryAfterMs).toBe(3000);
    expect(error.message).not.toContain('SECRETSIG');
  });

  it('retries a connection that dropped before Azure answered, and takes Retry-After in milliseconds', () => {
    const dropped = toMlscaleError(
      new RestError('socket hang up', { code: 'REQUEST_SEND_ERROR' }),
      'Reading endpoint x',
    );
    expect(dropped.code).toBe('BackendFailure');
    expect(dropped.retryable).toBe(true);
    const throttled = toMlscaleError(
      restError(429, 'TooManyRequests', 'slow down', { 'retry-after-ms': '250', 'retry-after': '9' }),
      'Listing',
    );
    expect(throttled.retryAfterMs).toBe(250);
  });

  it('does not retry an unknown error', () => {
    expect(toMlscaleError(new TypeError('x is not a function'), 'Reading').retryable).toBe(false);
  });

  it('keeps a failed long-running operation’s code and message and does not retry it', () => {
    const error = toMlscaleError(
      new Error('The long-running operation has failed. ResourceNotReady. Container crashed'),
      'Waiting',
    );
    expect(error.code).toBe('BackendFailure');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('ResourceNotReady. Container crashed');
  });
});
