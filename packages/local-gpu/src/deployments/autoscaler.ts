import { type AutoscalingPolicy, decideScaling, type ScalingHistory } from '@mlscale/core';
import type { ModelVersion } from './model-version.js';
import type { WindowSnapshot } from './window-stats.js';

/** The last decision that changed something, for the deployment's status. */
export interface ScalingRecord {
  at: string;
  action: 'scaleOut' | 'scaleIn';
  from: number;
  to: number;
  reason: string;
}

export interface Autoscaler {
  setPolicy(policy: AutoscalingPolicy | null): void;
  /** The policy it runs, or null when the replica count is fixed. */
  readonly policy: AutoscalingPolicy | null;
  /** A request waits with no replica running: decide now instead of at the next tick. */
  /** Requests wait at zero replicas: scales from zero if the policy allows; returns whether it does. */
  demand(): boolean;
  start(): void;
  stop(): void;
  readonly lastDecision: ScalingRecord | undefined;
}

/**
 * Runs core's target-tracking policy (`decideScaling`) on the serving version every `intervalMs`, on the
 * per-replica metric the policy names, measured over the interval.
 */
export function createAutoscaler(options: {
  intervalMs: number;
  target: () => ModelVersion;
  log(message: string, fields?: Record<string, unknown>): void;
  now?: () => number;
}): Autoscaler {
  const now = options.now ?? Date.now;
  let policy: AutoscalingPolicy | null = null;
  let history: ScalingHistory = {};
  let timer: NodeJS.Timeout | undefined;
  let lastDecision: ScalingRecord | undefined;
  let lastCpu = process.cpuUsage();
  let lastCpuAt = now();

  const evaluate = (fromDemand: boolean) => {
    const version = options.target();
    if (!policy) {
      version.stats.take();
      return;
    }
    const current = version.desiredReplicas;
    let metricValue: number;
    if (fromDemand || version.readyReplicas === 0) {
      // No replica to average over: the pending demand is the metric (core's from-zero rule).
      metricValue = version.batcher.outstanding;
      if (!fromDemand) version.stats.take();
    } else {
      metricValue = perReplicaMetric(policy, version.stats.take(), version.readyReplicas);
    }
    const time = now();
    if (metricValue > 0 || version.batcher.outstanding > 0) history.idleSince = undefined;
    else history.idleSince ??= time;
    const decision = decideScaling({ policy, currentReplicas: current, metricValue, now: time, history });
    if (decision.action === 'none') return;
    if (decision.action === 'scaleOut') history = { ...history, lastScaleOutAt: time };
    else history = { ...history, lastScaleInAt: time };
    lastDecision = {
      at: new Date(time).toISOString(),
      action: decision.action,
      from: current,
      to: decision.replicas,
      reason: decision.reason,
    };
    options.log(`autoscaler: ${decision.reason}`);
    version.setReplicas(decision.replicas).catch((error: unknown) => {
      options.log('autoscaler: scaling failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  };

  function perReplicaMetric(current: AutoscalingPolicy, window: WindowSnapshot, replicas: number): number {
    switch (current.target.metric) {
      case 'concurrentRequests':
        return window.averageConcurrency / replicas;
      case 'requestsPerSecond':
        return window.requests / window.seconds / replicas;
      case 'latencyP95':
        return window.latencyP95Ms;
      case 'cpuUtilization': {
        const time = now();
        const usage = process.cpuUsage(lastCpu);
        const elapsedMicroseconds = Math.max(1, (time - lastCpuAt) * 1000);
        lastCpu = process.cpuUsage();
        lastCpuAt = time;
        return ((usage.user + usage.system) / elapsedMicroseconds / replicas) * 100;
      }
      default:
        // gpuUtilization is refused when the policy is set on a CPU deployment; hold steady otherwise.
        return current.target.value;
    }
  }

  return {
    setPolicy(next) {
      policy = next;
      history = {};
    },
    demand() {
      const version = options.target();
      if (!policy) return false;
      if (version.desiredReplicas === 0) evaluate(true);
      return true;
    },
    start() {
      timer ??= setInterval(() => evaluate(false), options.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    get policy() {
      return policy;
    },
    get lastDecision() {
      return lastDecision;
    },
  };
}
