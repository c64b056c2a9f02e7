import type { BackendV1, DeploymentStatus } from '../backend/v1/index.js';
import { MlscaleError } from '../errors.js';
import { shortHash } from '../provider-utils/deployment-record.js';
import { type WaitResult, waitFor } from '../wait.js';
import type { BackendCall } from './backend-call.js';
import type { MlscaleEvent, MutatingOperation } from './events.js';

/** How long a deployment operation may take by default: one hour. */
export const defaultDeploymentTimeoutMs = 60 * 60_000;

/** What a wait for a deployment needs from the client. */
export interface DeploymentWaitContext {
  backend: BackendV1;
  call: BackendCall;
  emit: (event: MlscaleEvent) => void;
  polling: { minDelayMs: number; maxDelayMs: number };
}

export interface DeploymentWaitOptions {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Drives a deployment to convergence: calls the backend's reconcile step until the spec recorded as
 * `expectedHash` serves (InService), the deployment fails, or a change made meanwhile (a refusal that
 * put the previous spec back, another process's update) means it never will.
 */
export function reconcileUntilServing(
  context: DeploymentWaitContext,
  operation: MutatingOperation,
  name: string,
  expectedHash: string | undefined,
  options: DeploymentWaitOptions,
): Promise<DeploymentStatus> {
  return reconcileUntil(context, operation, name, options, `be InService`, (status) => {
    if (!status) return { state: 'FAILURE', reason: 'the deployment disappeared' };
    if (status.state === 'Failed')
      return { state: 'FAILURE', reason: status.stateReason ?? 'the backend reported Failed', value: status };
    const wanted = expectedHash ?? status.specHash;
    if (status.specHash !== wanted) {
      return {
        state: 'FAILURE',
        value: status,
        reason: `spec ${shortHash(wanted)} is no longer the one asked for (now ${shortHash(status.specHash)})${
          status.stateReason ? `: ${status.stateReason}` : ''
        }`,
      };
    }
    if (status.state === 'InService' && (status.servingSpecHash ?? wanted) === wanted)
      return { state: 'SUCCESS', value: status };
    return {
      state: 'RETRY',
      value: status,
      progress: status.stateReason ? `${status.state}: ${status.stateReason}` : status.state,
    };
  }) as Promise<DeploymentStatus>;
}

/** Drives a deletion until the backend reports the deployment gone. */
export async function reconcileUntilGone(
  context: DeploymentWaitContext,
  name: string,
  options: DeploymentWaitOptions,
): Promise<void> {
  await reconcileUntil(context, 'delete', name, options, 'be deleted', (status) =>
    status
      ? {
          state: 'RETRY',
          value: status,
          progress: status.stateReason ? `${status.state}: ${status.stateReason}` : status.state,
        }
      : { state: 'SUCCESS', value: undefined },
  );
}

function reconcileUntil(
  context: DeploymentWaitContext,
  operation: MutatingOperation,
  name: string,
  options: DeploymentWaitOptions,
  goal: string,
  done: (status: DeploymentStatus | undefined) => WaitResult<DeploymentStatus | undefined>,
): Promise<DeploymentStatus | undefined> {
  const { backend, call, emit, polling } = context;
  return waitFor({
    description: `deployment '${name}' to ${goal}`,
    maxWaitMs: options.timeoutMs ?? defaultDeploymentTimeoutMs,
    ...polling,
    // Each reconcile step may start the next operation: a step that moved on is checked again soon.
    restartDelaysOnProgress: true,
    ...(options.signal ? { signal: options.signal } : {}),
    check: async (signal) =>
      done(
        await call('reconcile', name, signal, (callOptions) =>
          backend.deployments.doReconcile(name, callOptions),
        ),
      ),
    onProgress: (result, elapsedMs) => {
      const state = result.state === 'RETRY' && result.value ? result.value.state : 'pending';
      emit({ type: 'operation-progress', operation, target: name, time: new Date(), state, elapsedMs });
    },
  }).catch((error: unknown) => {
    // The waiter's own errors (Timeout, gave up) name no provider; the backend is the one that failed.
    if (MlscaleError.isInstance(error) && error.provider === undefined) {
      throw new MlscaleError({
        code: error.code,
        provider: backend.provider,
        retryable: error.retryable,
        message: error.message,
        cause: error,
      });
    }
    throw error;
  });
}
