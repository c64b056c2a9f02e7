import { MlscaleError, type MlscaleErrorCode, redactText } from '@mlscale/core';

/** How an error code of the operating system (`error.code` of fs and net errors) is answered. */
const systemErrorCodes: Record<string, { code: MlscaleErrorCode; retryable: boolean; meaning: string }> = {
  EACCES: { code: 'Unauthorized', retryable: false, meaning: 'permission denied' },
  EPERM: { code: 'Unauthorized', retryable: false, meaning: 'operation not permitted' },
  EROFS: { code: 'Unauthorized', retryable: false, meaning: 'read-only file system' },
  ENOSPC: { code: 'QuotaExceeded', retryable: false, meaning: 'no space left on the device' },
  EDQUOT: { code: 'QuotaExceeded', retryable: false, meaning: 'disk quota exceeded' },
  EMFILE: { code: 'Throttled', retryable: true, meaning: 'too many open files in this process' },
  ENFILE: { code: 'Throttled', retryable: true, meaning: 'too many open files on this machine' },
  EAGAIN: { code: 'Throttled', retryable: true, meaning: 'resource temporarily unavailable' },
  EBUSY: { code: 'BackendFailure', retryable: true, meaning: 'resource busy' },
  EIO: { code: 'BackendFailure', retryable: true, meaning: 'input/output error' },
  EINTR: { code: 'BackendFailure', retryable: true, meaning: 'interrupted' },
  ETIMEDOUT: { code: 'Timeout', retryable: true, meaning: 'timed out' },
  EADDRINUSE: { code: 'Conflict', retryable: false, meaning: 'the address is in use' },
  EADDRNOTAVAIL: { code: 'InvalidSpec', retryable: false, meaning: 'the address is not on this machine' },
};

/**
 * An error of a local side effect as an MlscaleError: errors already classified stay as they are; the
 * operating system's errors get the code a caller branches on, and `retryable` only where trying again
 * can work (a busy resource, too many open files, an I/O error), never for a refusal (EACCES). Anything
 * else is a BackendFailure that is not retried.
 */
export function classifySystemError(error: unknown, what: string): MlscaleError {
  if (MlscaleError.isInstance(error)) return error;
  const systemCode = (error as NodeJS.ErrnoException | undefined)?.code;
  const known = systemCode ? systemErrorCodes[systemCode] : undefined;
  const detail = redactText(error instanceof Error ? error.message : String(error));
  return new MlscaleError({
    code: known?.code ?? 'BackendFailure',
    provider: 'local',
    retryable: known?.retryable ?? false,
    message: known ? `${what} failed: ${known.meaning} (${detail})` : `${what} failed: ${detail}`,
    cause: error,
  });
}
