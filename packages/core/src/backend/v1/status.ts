import type { AutoscalingPolicy, DeploymentSpec } from '../../spec/deployment.js';
import type { AlertRule } from '../../spec/monitoring.js';
import type { TrainingJobSpec } from '../../spec/training.js';

/** Where a deployment is in its life. */
export type DeploymentState = 'Creating' | 'Updating' | 'RollingBack' | 'InService' | 'Failed' | 'Deleting';

/** Which device serves, when the backend chooses one (the local backend's CUDA → CPU fallback). */
export interface DeviceReport {
  /** What the spec asked for (`auto`, `cuda`, `cpu`, or the accelerator type). */
  requested: string;
  /** What is used. */
  used: string;
  /** Why, when `used` differs from the first choice ("CUDA provider libraries not installed"). */
  reason?: string;
}

/** One model version's share of traffic as it is now. */
export interface TrafficShare {
  /** A label for the version (variant, deployment or deployed-model name). */
  version: string;
  /** Percent of requests. */
  weight: number;
}

/** A deployment as the backend reports it. */
export interface DeploymentStatus {
  name: string;
  provider: string;
  state: DeploymentState;
  /**
   * Why it is in that state: the failure reason for `Failed`, what is left while converging, and, once
   * InService again, why the last change did not take (a refused update, a rollback).
   */
  stateReason?: string;
  replicas: {
    /** What the backend is converging to. */
    desired: number;
    /** Replicas ready to serve. */
    ready: number;
  };
  autoscaling?: AutoscalingPolicy;
  traffic: TrafficShare[];
  /** Where to send requests, when it has an address. */
  endpoint?: { url: string };
  device?: DeviceReport;
  /**
   * The spec asked for (the backend's record of it), secrets sealed: each secret value is a keyed hash
   * (`sealed:hmac-sha256:…`), never the value.
   */
  spec: DeploymentSpec;
  /** `deploymentSpecHash` of `spec`: what drift detection and idempotent deploys compare. */
  specHash: string;
  /**
   * The hash of the spec that serves now. Equal to `specHash` once converged; another while a change
   * rolls out (or after a crash left one half done); absent until a first deployment converges.
   */
  servingSpecHash?: string;
  createdAt: Date;
  updatedAt: Date;
  /** Anything backend-specific worth showing (resource ids, ARNs, ...). Never secrets. */
  details?: Record<string, unknown>;
}

/** Where a training job is in its life. */
export type TrainingJobState = 'Pending' | 'Running' | 'Stopping' | 'Completed' | 'Failed' | 'Stopped';

/** Terminal states: nothing more will happen to the job. */
export const terminalTrainingJobStates: ReadonlySet<TrainingJobState> = new Set([
  'Completed',
  'Failed',
  'Stopped',
]);

/** A training job as the backend reports it. */
export interface TrainingJobStatus {
  name: string;
  provider: string;
  state: TrainingJobState;
  /** The finer step, as SageMaker reports it (Starting, Downloading, Training, Interrupted, Uploading, MaxRuntimeExceeded, MaxWaitTimeExceeded, ...). */
  secondaryStatus?: string;
  failureReason?: string;
  spec: TrainingJobSpec;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  /** Seconds processes ran. */
  trainingSeconds?: number;
  /** Seconds billed (spot: training seconds; on-demand: the same). */
  billableSeconds?: number;
  /** Spot interruptions so far. */
  interruptions?: number;
  /** Where the trained model is. */
  modelUri?: string;
  /** The last value of each metric from the job's metric definitions. */
  finalMetrics?: Record<string, number>;
  details?: Record<string, unknown>;
}

/** One log line from a deployment or a job. */
export interface LogEntry {
  time: Date;
  /** Where it came from: `request`, `server`, `rank-0`, `stdout`, `stderr`, ... */
  source: string;
  message: string;
  /** Structured fields (request logs: route, status, latencyMs, batchSize, replica). */
  fields?: Record<string, unknown>;
}

/** One metric's series: timestamps (bucket starts) and values; `null` where a bucket had no data. */
export interface MetricSeries {
  name: string;
  stat: string;
  unit: string;
  timestamps: Date[];
  values: (number | null)[];
}

/** What a metric query returns: one series per requested name, on the same timestamps. */
export interface MetricQueryResult {
  periodSeconds: number;
  series: MetricSeries[];
  /** Names the backend cannot provide, with why (for example `gpuUtilization`: no GPU in use). */
  absent?: { name: string; reason: string }[];
}

/** An alert rule and its current state. */
export interface AlertStatus {
  rule: AlertRule;
  state: 'ok' | 'pending' | 'firing';
  since: Date;
  lastValue?: number | null;
}
