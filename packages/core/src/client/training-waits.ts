import {
  type TrainingJobStatus,
  type TrainingOperationsV1,
  terminalTrainingJobStates,
} from '../backend/v1/index.js';
import { waitFor } from '../wait.js';
import type { BackendCall } from './backend-call.js';
import type { MlscaleEvent, MutatingOperation } from './events.js';

/** Jobs have no deadline of their own unless the caller gives one. */
const unlimitedMs = 365 * 24 * 60 * 60_000;

/** Waits until a job ends: Completed (or any end, for stopJob) resolves; other ends throw with the reason. */
export function waitForJob(
  context: {
    training: TrainingOperationsV1;
    call: BackendCall;
    emit: (event: MlscaleEvent) => void;
    polling: { minDelayMs: number; maxDelayMs: number };
  },
  jobName: string,
  options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
  operation: MutatingOperation,
): Promise<TrainingJobStatus> {
  const { training, call, emit, polling } = context;
  return waitFor<TrainingJobStatus>({
    description: `training job '${jobName}' to ${operation === 'stopJob' ? 'stop' : 'finish'}`,
    maxWaitMs: options.timeoutMs ?? unlimitedMs,
    ...polling,
    ...(options.signal ? { signal: options.signal } : {}),
    check: async (signal) => {
      const status = await call('job', jobName, signal, (callOptions) =>
        training.doGet(jobName, callOptions),
      );
      if (!status) return { state: 'FAILURE', reason: 'the job disappeared' };
      if (!terminalTrainingJobStates.has(status.state)) {
        return {
          state: 'RETRY',
          value: status,
          progress: status.secondaryStatus ? `${status.state} (${status.secondaryStatus})` : status.state,
        };
      }
      if (status.state === 'Completed' || operation === 'stopJob') return { state: 'SUCCESS', value: status };
      const reason = status.failureReason ?? status.secondaryStatus ?? status.state;
      return { state: 'FAILURE', reason: `${status.state}: ${reason}`, value: status };
    },
    onProgress: (result, elapsedMs) => {
      const state = result.state === 'RETRY' && result.value ? result.value.state : 'pending';
      emit({ type: 'operation-progress', operation, target: jobName, time: new Date(), state, elapsedMs });
    },
  });
}
