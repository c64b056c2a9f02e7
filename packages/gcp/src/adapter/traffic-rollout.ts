import type { Rollout } from '@mlscale/core';
import type { StepAction } from './deployment-plan.js';
import type { RolloutProgress } from './deployment-store.js';
import { blend, sameSplit } from './traffic-split.js';

/**
 * The next traffic move of a rollout, across reconcile steps: the first step moves `steps[0]`% of the
 * way from the split it started from to the final one; each later step first lets the step run for
 * `stepSeconds` (a step that finds the time not up waits, it never sleeps) and judges it, then moves to
 * the next. Without a rollout, traffic moves all at once.
 */
export function nextTrafficMove(
  rollout: Rollout | undefined,
  progress: RolloutProgress | undefined,
  current: Record<string, number>,
  final: Record<string, number>,
  now: Date,
): StepAction {
  const steps = rollout?.steps ?? [100];
  const splitAt = (from: Record<string, number>, step: number) =>
    step >= 100 ? final : blend(from, final, step / 100);
  if (!progress) {
    const step = steps[0]!;
    return {
      kind: 'moveTraffic',
      split: splitAt(current, step),
      rollout: { step, since: now.toISOString(), from: current },
    };
  }
  const expected = splitAt(progress.from, progress.step);
  // Someone changed the split meanwhile: put this step's split back, and observe it afresh.
  if (!sameSplit(current, expected)) {
    return {
      kind: 'moveTraffic',
      split: expected,
      rollout: { ...progress, since: now.toISOString() },
    };
  }
  const since = new Date(progress.since);
  const elapsedMs = now.getTime() - since.getTime();
  const stepMs = (rollout?.stepSeconds ?? 0) * 1000;
  if (elapsedMs < stepMs) {
    return {
      kind: 'wait',
      reason: `the rollout is at ${progress.step}% for ${Math.round(stepMs / 1000)} s (${Math.floor(elapsedMs / 1000)} s so far)`,
    };
  }
  const next = steps.find((step) => step > progress.step) ?? 100;
  return {
    kind: 'moveTraffic',
    split: splitAt(progress.from, next),
    rollout: { step: next, since: now.toISOString(), from: progress.from },
    judge: {
      since,
      step: progress.step,
      // The models this rollout brings in: the ones the split it started from did not send traffic to.
      deployedModelIds: Object.keys(final).filter((id) => !(id in progress.from)),
    },
  };
}
