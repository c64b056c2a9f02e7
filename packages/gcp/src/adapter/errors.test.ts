import { describe, expect, it } from 'vitest';
import { staleEtagConflict, statusError, vertexError } from './errors.js';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details });

describe('gRPC errors as MlscaleErrors', () => {
  it.each([
    [5, 'NotFound', false, 404],
    [6, 'AlreadyExists', false, 409],
    [7, 'Unauthorized', false, 403],
    [8, 'Throttled', true, 429],
    [9, 'Conflict', false, 400],
    [3, 'InvalidSpec', false, 400],
    [4, 'BackendFailure', true, 504],
    [13, 'BackendFailure', true, 500],
    [14, 'BackendFailure', true, 503],
    [2, 'BackendFailure', false, 500],
  ])('maps status %i to %s (retryable: %s, HTTP %i)', (code, expected, retryable, statusCode) => {
    const error = vertexError(grpcError(code, 'details here'), 'DeployModel');
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.statusCode).toBe(statusCode);
    expect(error.provider).toBe('gcp');
    expect(error.message).toBe('Vertex AI DeployModel failed: details here');
  });

  it('maps Cloud Storage HTTP statuses and dropped connections, and does not retry what it cannot read', () => {
    const storage = (code: number) => Object.assign(new Error('storage said no'), { code });
    expect(vertexError(storage(503), 'Cloud Storage upload').retryable).toBe(true);
    expect(vertexError(storage(503), 'Cloud Storage upload').statusCode).toBe(503);
    expect(vertexError(storage(403), 'Cloud Storage upload').code).toBe('Unauthorized');
    expect(vertexError(storage(403), 'Cloud Storage upload').message).toBe(
      'Cloud Storage upload failed: storage said no',
    );
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(vertexError(reset, 'GetEndpoint').retryable).toBe(true);
    const bug = vertexError(new TypeError('x is undefined'), 'GetEndpoint');
    expect(bug.retryable).toBe(false);
    expect(bug.code).toBe('BackendFailure');
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

  it('takes a write refused for a stale etag as a retryable Conflict, ABORTED or FAILED_PRECONDITION naming the etag', () => {
    const endpoint = 'projects/p/locations/l/endpoints/e';
    const aborted = staleEtagConflict(
      vertexError(grpcError(10, 'etag mismatch'), 'UpdateEndpoint'),
      endpoint,
    );
    expect(aborted?.code).toBe('Conflict');
    expect(aborted?.retryable).toBe(true);
    expect(aborted?.message).toContain(endpoint);
    const precondition = staleEtagConflict(
      vertexError(grpcError(9, 'The etag of the resource does not match.'), 'UpdateEndpoint'),
      endpoint,
    );
    expect(precondition?.retryable).toBe(true);
    expect(precondition?.statusCode).toBe(400);
    // Any other refusal stays what it is.
    expect(
      staleEtagConflict(
        vertexError(grpcError(9, 'Deployed model 1 has traffic.'), 'UpdateEndpoint'),
        endpoint,
      ),
    ).toBeUndefined();
    expect(
      staleEtagConflict(vertexError(grpcError(7, 'denied'), 'UpdateEndpoint'), endpoint),
    ).toBeUndefined();
  });
});
