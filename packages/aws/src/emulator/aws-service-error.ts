/**
 * An error the emulator answers with, shaped as AWS services shape theirs: HTTP status, the `__type`
 * name the SDK maps to an exception class, a message, and any modelled extra fields (ModelError's
 * OriginalStatusCode, ...).
 */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';

  constructor(
    /** The exception name, as the real service spells it (`ValidationException`, `ResourceInUse`). */
    readonly type: string,
    message: string,
    /** The HTTP status; AWS JSON services answer most client errors with 400. */
    readonly status = 400,
    /** Modelled fields the SDK reads from the error body. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** SageMaker's answer for a missing endpoint, endpoint config or model. */
export function couldNotFind(kind: string, name: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `Could not find ${kind} "${name}".`);
}

/** A required field was absent or malformed. */
export function invalidField(field: string, expected: string): AwsServiceError {
  return new AwsServiceError(
    'ValidationException',
    `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${expected}`,
  );
}
