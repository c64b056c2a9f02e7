import type { AutoscalingPolicy } from '../spec/deployment.js';

/** Replicas a target-tracking policy asks for, before cooldowns. */
export interface DesiredReplicasInput {
  /** Replicas running now. */
  currentReplicas: number;
  /**
   * The metric now: the per-replica average when replicas run; with none running, the pending demand
   * (requests waiting), since there is no replica to average over.
   */
  metricValue: number;
  /** The per-replica value to hold. */
  targetValue: number;
  minReplicas: number;
  maxReplicas: number;
  /** Relative band around the target in which nothing changes (0.1 = ±10%). */
  tolerance: number;
}

/** Clamps `replicas` into [min, max]. */
export function clampReplicas(replicas: number, minReplicas: number, maxReplicas: number): number {
  return Math.min(maxReplicas, Math.max(minReplicas, replicas));
}

/**
 * desired = ceil(current × metric / target), clamped to [min, max]; within the tolerance band the
 * current count stays. From zero replicas, any demand asks for ceil(demand / target), at least one.
 */
export function desiredReplicas(input: DesiredReplicasInput): number {
  const { currentReplicas, metricValue, targetValue, minReplicas, maxReplicas, tolerance } = input;
  if (!(targetValue > 0)) throw new RangeError('targetValue must be above 0');
  if (!Number.isFinite(metricValue) || metricValue < 0)
    return clampReplicas(currentReplicas, minReplicas, maxReplicas);
  if (currentReplicas === 0) {
    const fromZero = metricValue > 0 ? Math.max(1, Math.ceil(metricValue / targetValue)) : 0;
    return clampReplicas(fromZero, minReplicas, maxReplicas);
  }
  const ratio = metricValue / targetValue;
  if (Math.abs(ratio - 1) <= tolerance) return clampReplicas(currentReplicas, minReplicas, maxReplicas);
  // The small epsilon keeps 3 × 100 / 100 from becoming ceil(3.0000000000000004) = 4.
  const raw = Math.ceil(currentReplicas * ratio - 1e-9);
  return clampReplicas(raw, minReplicas, maxReplicas);
}

/** What the autoscaler remembers between decisions. */
export interface ScalingHistory {
  /** When the last scale-out happened (epoch ms), if ever. */
  lastScaleOutAt?: number;
  /** When the last scale-in happened (epoch ms), if ever. */
  lastScaleInAt?: number;
  /** Since when (epoch ms) traffic has been zero, for scale to zero; undefined while there is traffic. */
  idleSince?: number;
}

export interface ScalingDecision {
  action: 'scaleOut' | 'scaleIn' | 'none';
  /** Replicas to run after this decision. */
  replicas: number;
  /** What the arithmetic asked for before cooldowns. */
  desired: number;
  reason: string;
}

export interface DecideScalingInput {
  policy: Pick<
    AutoscalingPolicy,
    | 'minReplicas'
    | 'maxReplicas'
    | 'target'
    | 'scaleInCooldownSeconds'
    | 'scaleOutCooldownSeconds'
    | 'tolerance'
    | 'scaleToZeroAfterSeconds'
  >;
  currentReplicas: number;
  metricValue: number;
  /** Epoch ms. */
  now: number;
  history: ScalingHistory;
}

/**
 * One autoscaler step: the target-tracking arithmetic, then cooldowns. A scale-out waits out the
 * scale-out cooldown since the last scale-out; a scale-in waits out the scale-in cooldown since the last
 * change of either kind (so a burst's replicas are not dropped at once). Scaling from zero is never
 * delayed: a request is waiting. Scaling to zero waits for `scaleToZeroAfterSeconds` of idleness.
 */
export function decideScaling(input: DecideScalingInput): ScalingDecision {
  const { policy, currentReplicas, metricValue, now, history } = input;
  const desired = desiredReplicas({
    currentReplicas,
    metricValue,
    targetValue: policy.target.value,
    minReplicas: policy.minReplicas,
    maxReplicas: policy.maxReplicas,
    tolerance: policy.tolerance,
  });
  const describe = `${policy.target.metric} ${round(metricValue)} vs target ${policy.target.value}`;

  if (desired > currentReplicas) {
    if (currentReplicas > 0 && history.lastScaleOutAt !== undefined) {
      const waited = (now - history.lastScaleOutAt) / 1000;
      if (waited < policy.scaleOutCooldownSeconds) {
        return {
          action: 'none',
          replicas: currentReplicas,
          desired,
          reason: `${describe}: scale-out cooldown (${round(policy.scaleOutCooldownSeconds - waited)} s left)`,
        };
      }
    }
    return {
      action: 'scaleOut',
      replicas: desired,
      desired,
      reason: `${describe}: ${currentReplicas} → ${desired}`,
    };
  }

  if (desired < currentReplicas) {
    const lastChange = Math.max(history.lastScaleInAt ?? -Infinity, history.lastScaleOutAt ?? -Infinity);
    const waited = (now - lastChange) / 1000;
    if (waited < policy.scaleInCooldownSeconds) {
      return {
        action: 'none',
        replicas: currentReplicas,
        desired,
        reason: `${describe}: scale-in cooldown (${round(policy.scaleInCooldownSeconds - waited)} s left)`,
      };
    }
    if (desired === 0) {
      const idleFor = history.idleSince === undefined ? 0 : (now - history.idleSince) / 1000;
      if (idleFor < policy.scaleToZeroAfterSeconds) {
        const target = Math.max(1, desired);
        if (target >= currentReplicas) {
          return {
            action: 'none',
            replicas: currentReplicas,
            desired,
            reason: `${describe}: idle ${round(idleFor)} s of ${policy.scaleToZeroAfterSeconds} s before scaling to zero`,
          };
        }
        return {
          action: 'scaleIn',
          replicas: target,
          desired,
          reason: `${describe}: ${currentReplicas} → ${target} (zero after ${policy.scaleToZeroAfterSeconds} s idle)`,
        };
      }
    }
    return {
      action: 'scaleIn',
      replicas: desired,
      desired,
      reason: `${describe}: ${currentReplicas} → ${desired}`,
    };
  }

  return { action: 'none', replicas: currentReplicas, desired, reason: `${describe}: within tolerance` };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
