import type { TrafficRoutingConfig } from '@aws-sdk/client-sagemaker';
import type { Rollout, SpecIssue } from '@mlscale/core';

/*
 * What UpdateEndpoint's blue/green DeploymentConfig can express, as the SageMaker API reference
 * documents it (TrafficRoutingConfig, CapacitySize, BlueGreenUpdatePolicy):
 * - TrafficRoutingConfig.Type ALL_AT_ONCE | CANARY (two steps: the canary, then the rest) | LINEAR
 *   ("n steps of a configurable size": the same LinearStepSize each time); WaitIntervalInSeconds 0–3600.
 * - CanarySize "must be less than or equal to 50% of the variant's total instance count"; LinearStepSize
 *   "must be 10-50%"; CapacitySize.Value is an integer (CAPACITY_PERCENT here).
 * - TerminationWaitInSeconds 0–3600; MaximumExecutionTimeoutInSeconds 600–28800, "larger than the total
 *   waiting time specified in TerminationWaitInSeconds and WaitIntervalInSeconds".
 */

/** SageMaker's bounds on a blue/green update, from the API reference. */
export const blueGreenLimits = {
  maximumWaitSeconds: 3600,
  maximumCanaryPercent: 50,
  minimumLinearPercent: 10,
  maximumLinearPercent: 50,
  minimumExecutionSeconds: 600,
  maximumExecutionSeconds: 28_800,
} as const;

/** Time the execution timeout keeps beyond the waits, for the new fleet to start. */
export const fleetStartSeconds = 600;

/** A rollout as SageMaker's blue/green update runs it. */
export interface BlueGreenRollout {
  routing: TrafficRoutingConfig;
  /** The baking period after the last shift, before the old fleet goes. */
  terminationWaitSeconds: number;
  /** Absent for ALL_AT_ONCE: SageMaker's own default then applies. */
  maximumExecutionSeconds?: number;
}

const canaryShape = `[c, 100] (a canary of at most ${blueGreenLimits.maximumCanaryPercent}%, then the rest)`;
const linearShape = `equal steps [s, 2s, 3s, …, 100] with s from ${blueGreenLimits.minimumLinearPercent} to ${blueGreenLimits.maximumLinearPercent} (SageMaker's LINEAR shifts the same LinearStepSize each time)`;

function list(steps: readonly number[]): string {
  return `[${steps.join(', ')}]`;
}

/** The steps a LINEAR rollout of `step` percent goes through: step, 2·step, … and 100 last. */
export function linearSteps(step: number): number[] {
  return Array.from({ length: Math.ceil(100 / step) }, (_, index) => Math.min(100, (index + 1) * step));
}

function routingFor(steps: readonly number[], wait: number): TrafficRoutingConfig | SpecIssue {
  const path = 'rollout.steps';
  if (steps.length === 1) return { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: wait };
  const fractional = steps.find((step) => !Number.isInteger(step));
  if (fractional !== undefined) {
    return {
      path,
      message: `expected whole percents (SageMaker's CapacitySize is an integer); got ${fractional} in ${list(steps)}`,
    };
  }
  const first = steps[0]!;
  if (steps.length === 2) {
    if (first > blueGreenLimits.maximumCanaryPercent) {
      return {
        path,
        message: `expected a first step of at most ${blueGreenLimits.maximumCanaryPercent}: SageMaker's canary (CanarySize) is at most ${blueGreenLimits.maximumCanaryPercent}% of the fleet; got ${list(steps)}`,
      };
    }
    return {
      Type: 'CANARY',
      CanarySize: { Type: 'CAPACITY_PERCENT', Value: first },
      WaitIntervalInSeconds: wait,
    };
  }
  const equal = list(linearSteps(first)) === list(steps);
  if (equal && first >= blueGreenLimits.minimumLinearPercent) {
    return {
      Type: 'LINEAR',
      LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: first },
      WaitIntervalInSeconds: wait,
    };
  }
  if (equal) {
    return {
      path,
      message: `expected linear steps of ${blueGreenLimits.minimumLinearPercent}–${blueGreenLimits.maximumLinearPercent}% (SageMaker's LinearStepSize); got steps of ${first}% in ${list(steps)}`,
    };
  }
  return {
    path,
    message: `expected ${canaryShape} or ${linearShape}; ${list(steps)} is neither: use for example [${Math.min(first, blueGreenLimits.maximumCanaryPercent)}, 100] or ${list(linearSteps(Math.min(Math.max(Math.round(first), blueGreenLimits.minimumLinearPercent), blueGreenLimits.maximumLinearPercent)))}`,
  };
}

/**
 * The blue/green update a rollout becomes, or what SageMaker cannot express of it (each issue with
 * its field and what is expected). `stepSeconds` is rounded to whole seconds.
 */
export function translateRollout(rollout: Rollout): BlueGreenRollout | SpecIssue[] {
  const issues: SpecIssue[] = [];
  const wait = Math.round(rollout.stepSeconds);
  if (wait > blueGreenLimits.maximumWaitSeconds) {
    issues.push({
      path: 'rollout.stepSeconds',
      message: `expected at most ${blueGreenLimits.maximumWaitSeconds}: SageMaker waits 0–${blueGreenLimits.maximumWaitSeconds} s after each traffic shift (WaitIntervalInSeconds); got ${rollout.stepSeconds}`,
    });
  }
  const routing = routingFor(rollout.steps, wait);
  if ('path' in routing) issues.push(routing);
  if (issues.length > 0 || 'path' in routing) return issues;
  if (routing.Type === 'ALL_AT_ONCE') return { routing, terminationWaitSeconds: 0 };
  // One wait after each shift (a canary shifts once before the rest), then the baking period.
  const shifts = routing.Type === 'CANARY' ? 1 : rollout.steps.length;
  const totalWait = shifts * wait + wait;
  const maximum = Math.max(blueGreenLimits.minimumExecutionSeconds, totalWait + fleetStartSeconds);
  if (maximum > blueGreenLimits.maximumExecutionSeconds) {
    const longest = Math.floor((blueGreenLimits.maximumExecutionSeconds - fleetStartSeconds) / (shifts + 1));
    return [
      {
        path: 'rollout.stepSeconds',
        message: `expected at most ${longest} for ${list(rollout.steps)}: SageMaker ends a blue/green update after MaximumExecutionTimeoutInSeconds (at most ${blueGreenLimits.maximumExecutionSeconds}), which must exceed its waits — ${shifts} shift(s) × ${wait} s plus ${wait} s before the old fleet goes = ${totalWait} s — and mlscale keeps ${fleetStartSeconds} s for the new fleet to start`,
      },
    ];
  }
  return { routing, terminationWaitSeconds: wait, maximumExecutionSeconds: maximum };
}
