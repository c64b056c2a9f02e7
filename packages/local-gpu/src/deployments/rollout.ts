import type { Rollout } from '@mlscale/core';
import type { ModelVersion } from './model-version.js';

/** How a rollout ended. */
export type RolloutOutcome =
  | { result: 'promoted'; steps: number[] }
  | { result: 'rolledBack'; reason: string; step: number };

/**
 * Moves traffic to `candidate` step by step (`rollout.steps`, `stepSeconds` each), judging its error
 * rate as it goes: past `maxErrorRate` with at least `minRequests` requests in a step, the rollout
 * stops and traffic returns to the stable version. A candidate whose replicas fail to start is rolled
 * back before it gets any traffic. An alert, or an answer in another output contract than the stable
 * version's, can also ask for the rollback (`rollbackRequested`).
 */
export async function runRollout(options: {
  candidate: ModelVersion;
  replicas: number;
  rollout: Rollout;
  setWeight(weight: number): void;
  onRollingBack(reason: string): void;
  cancelled(): boolean;
  /** A reason to roll back from outside (an alert that fired, a breach found), or undefined to go on. */
  rollbackRequested?(): string | undefined;
  /** What the errors were, when more can be said than their rate (refusals the stable version answers). */
  failureDetail?(): string | undefined;
  pollMs?: number;
}): Promise<RolloutOutcome> {
  const { candidate, rollout } = options;
  const pollMs = options.pollMs ?? 50;
  try {
    await candidate.setReplicas(options.replicas);
  } catch (error) {
    const reason = `replicas failed to start: ${error instanceof Error ? error.message : String(error)}`;
    options.onRollingBack(reason);
    return { result: 'rolledBack', reason, step: 0 };
  }
  for (const weight of rollout.steps) {
    options.setWeight(weight);
    const requestsBefore = candidate.stats.totalRequests;
    const errorsBefore = candidate.stats.totalErrors;
    const started = Date.now();
    for (;;) {
      if (options.cancelled()) {
        options.setWeight(0);
        return { result: 'rolledBack', reason: 'the deployment is being deleted', step: weight };
      }
      const requested = options.rollbackRequested?.();
      if (requested) {
        options.onRollingBack(requested);
        options.setWeight(0);
        return { result: 'rolledBack', reason: requested, step: weight };
      }
      const requests = candidate.stats.totalRequests - requestsBefore;
      const errors = candidate.stats.totalErrors - errorsBefore;
      if (requests >= Math.max(1, rollout.minRequests) && errors / requests > rollout.maxErrorRate) {
        const detail = options.failureDetail?.();
        const reason = `error rate ${((100 * errors) / requests).toFixed(1)}% (${errors} of ${requests} requests) at ${weight}% traffic passed maxErrorRate ${100 * rollout.maxErrorRate}%${detail ? `: ${detail}` : ''}`;
        options.onRollingBack(reason);
        options.setWeight(0);
        return { result: 'rolledBack', reason, step: weight };
      }
      if (Date.now() - started >= rollout.stepSeconds * 1000) break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  return { result: 'promoted', steps: rollout.steps };
}
