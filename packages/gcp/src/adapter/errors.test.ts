import { describe, expect, it } from 'vitest';
import { statusError, vertexError } from './errors.js';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details });

describe('gRPC errors as MlscaleErrors', () => {
  it.each([
    [5, 'NotFound', false],
    [6, 'AlreadyExists', false],
    [7, 'Unauthorized', false],
    [8, 'Throttled', true],
    [9, 'Conflict', false],
    [14, 'BackendFailure', true],
    [3, 'InvalidSpec', false],
  ])('maps status %i to %s', (code, expected, retryable) => {
    const error = vertexError(grpcError(code, 'details here'), 'DeployModel');
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.provider).toBe('gcp');
    expect(error.message).toBe('Vertex AI DeployModel failed: details here');
  });

  it('keeps secrets out of messages', () => {
    const error = vertexError(
      grpcError(7, 'denied for https://storage.googleapis.com/b/o?X-Goog-Signature=abc&token=s3cr3t'),
      'UploadModel',
    );
    expect(error.message).not.toContain('s3cr3t');
  });

  it('keeps an operation error message', () => {
    const error = statusError({ code: 13, message: 'Model server never became ready.' }, 'DeployModel m');
    expect(error.message).toBe('DeployModel m failed: Model server never became ready.');
    expect(error.code).toBe('BackendFailure');
    expect(error.retryable).toBe(false);
  });
});
