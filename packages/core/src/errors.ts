/**
 * The one error type every mlscale package throws.
 *
 * A marker symbol (not `instanceof`) identifies it, so checks keep working when two copies of
 * `@mlscale/core` end up in one program (a CLI and a user's service, say).
 */
const marker = Symbol.for('mlscale.error');

/** What went wrong, in terms a caller can branch on. */
export type MlscaleErrorCode =
  | 'InvalidSpec'
  | 'Unsupported'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Throttled'
  | 'QuotaExceeded'
  | 'Unauthorized'
  | 'Timeout'
  | 'Aborted'
  | 'BackendFailure';

/**
 * Codes a retry can fix without the caller changing anything. Only throttling: a `BackendFailure` is
 * retryable only when the adapter that raised it says so (a 5xx, a dropped connection), so a bug inside
 * an adapter (a `TypeError`) is reported at once instead of being tried again.
 */
const retryableByDefault: ReadonlySet<MlscaleErrorCode> = new Set(['Throttled']);

export interface MlscaleErrorOptions {
  code: MlscaleErrorCode;
  message: string;
  /** Whether retrying the same call may succeed. Default: true for `Throttled` only. */
  retryable?: boolean;
  /** The backend that raised it (`local`, `aws`, `azure`, `gcp`, ...). */
  provider?: string;
  /** The underlying error, kept for debugging; never shown in `message`. */
  cause?: unknown;
  /** How long the backend asked us to wait before retrying (a Retry-After header, for one). */
  retryAfterMs?: number;
  /** For `InvalidSpec`: each bad field path and what was expected there. */
  issues?: readonly SpecIssue[];
  /** The HTTP status the backend answered with, when there was one. */
  statusCode?: number;
}

/** One problem in a spec: where (`autoscaling.maxReplicas`) and what was expected. */
export interface SpecIssue {
  path: string;
  message: string;
}

export class MlscaleError extends Error {
  /** The marker `isInstance` checks; public so copies of this package recognise each other. */
  readonly [marker] = true;
  override readonly name = 'MlscaleError';
  readonly code: MlscaleErrorCode;
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly issues: readonly SpecIssue[];
  readonly statusCode: number | undefined;

  constructor(options: MlscaleErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryable = options.retryable ?? retryableByDefault.has(options.code);
    this.provider = options.provider;
    this.retryAfterMs = options.retryAfterMs;
    this.issues = options.issues ?? [];
    this.statusCode = options.statusCode;
  }

  /** True for any MlscaleError, from any copy of this package. */
  static isInstance(error: unknown): error is MlscaleError {
    return typeof error === 'object' && error !== null && marker in error;
  }

  /** True when `error` is an MlscaleError with the given code. */
  static hasCode(error: unknown, code: MlscaleErrorCode): error is MlscaleError {
    return MlscaleError.isInstance(error) && error.code === code;
  }

  /** A plain object for logs and audit entries (no stack, no cause). */
  toJSON(): { name: string; code: MlscaleErrorCode; message: string; provider?: string; retryable: boolean } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.provider ? { provider: this.provider } : {}),
      retryable: this.retryable,
    };
  }
}

/** The error an aborted operation throws, whatever the signal's reason was. */
export function abortedError(signal: AbortSignal | undefined, what: string): MlscaleError {
  const reason = signal?.reason;
  if (MlscaleError.isInstance(reason)) return reason;
  return new MlscaleError({ code: 'Aborted', message: `${what} was aborted.`, cause: reason });
}

/**
 * Wraps anything thrown into an MlscaleError, keeping MlscaleErrors as they are. An error no adapter
 * classified is a `BackendFailure` that is not retried: nothing says a second try would differ.
 */
export function toMlscaleError(error: unknown, provider?: string): MlscaleError {
  if (MlscaleError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MlscaleError({
    code: 'BackendFailure',
    retryable: false,
    message: `Backend call failed: ${message}`,
    ...(provider ? { provider } : {}),
    cause: error,
  });
}
