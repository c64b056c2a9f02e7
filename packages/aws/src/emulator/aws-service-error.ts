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

/**
 * A member outside its modelled constraint, in the words AWS's request validation uses:
 * `1 validation error detected: Value '4000' at 'deploymentConfig...waitIntervalInSeconds' failed to
 * satisfy constraint: Member must have value less than or equal to 3600`. `path` is the member's
 * camelCase path as AWS prints it; `type` is the service's validation error name.
 */
export function constraintViolation(
  path: string,
  value: unknown,
  constraint: string,
  type = 'ValidationException',
): AwsServiceError {
  const shown = value === undefined || value === null ? 'null' : `'${formatValue(value)}'`;
  return new AwsServiceError(
    type,
    `1 validation error detected: Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`,
  );
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => formatValue(item)).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
