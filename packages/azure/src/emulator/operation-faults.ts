import { ArmError } from './arm-error.js';
import { authorizationActionOf } from './operation-names.js';
import { operationInProgress } from './resource-rules.js';

/**
 * A fault armed for one operation: a permission refusal, a 500, throttling, or the 409 of a write that
 * met an operation another client started on the resource (`operationInProgress`).
 */
export type OperationFault = 'accessDenied' | 'serverError' | 'throttling' | 'operationInProgress';

/** What else an armed fault may say. */
export interface OperationFaultOptions {
  /** Throttling's `Retry-After`, in seconds. Default 1. */
  retryAfterSeconds?: number;
}

interface ArmedFault {
  fault: OperationFault;
  operation: string;
  remaining: number;
  retryAfterSeconds: number;
}

/** The object id the emulator's callers have, as an ARM refusal names it. */
const callerObjectId = '00000000-0000-0000-0000-0000000c0de5';

/**
 * Faults armed per operation name (`PUT onlineEndpoints`, ...), each answering the next `count`
 * requests of that operation before the emulator acts on them, with the answer ARM gives.
 */
export class OperationFaults {
  private armed: ArmedFault[] = [];

  arm(fault: OperationFault, operation: string, count: number, options: OperationFaultOptions = {}): void {
    this.armed.push({
      fault,
      operation,
      remaining: count,
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
    });
  }

  clear(): void {
    this.armed = [];
  }

  /** Throws the answer of the first fault armed for `operation`, using it up; nothing when none is. */
  apply(operation: string, method: string, path: string): void {
    const entry = this.armed.find((item) => item.operation === operation && item.remaining > 0);
    if (!entry) return;
    entry.remaining -= 1;
    this.armed = this.armed.filter((item) => item.remaining > 0);
    throw faultAnswer(entry, method, path);
  }
}

function faultAnswer(entry: ArmedFault, method: string, path: string): ArmError {
  if (entry.fault === 'accessDenied') {
    // ARM's wording for a caller whose role lacks the action (403 AuthorizationFailed).
    return new ArmError(
      403,
      'AuthorizationFailed',
      `The client '${callerObjectId}' with object id '${callerObjectId}' does not have authorization to perform action '${authorizationActionOf(method, path)}' over scope '${path}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }
  if (entry.fault === 'throttling') {
    return new ArmError(
      429,
      'TooManyRequests',
      'The request was throttled; retry after the given delay (injected).',
      { 'Retry-After': String(entry.retryAfterSeconds) },
    );
  }
  if (entry.fault === 'operationInProgress') return operationInProgress(resourceIdOf(path));
  return new ArmError(500, 'InternalServerError', 'An internal server error occurred (injected).');
}

/** The resource a request's path names (an action's path without the action). */
function resourceIdOf(path: string): string {
  return path.replace(/\/(listKeys|token|regenerateKeys|getLogs)$/i, '');
}
