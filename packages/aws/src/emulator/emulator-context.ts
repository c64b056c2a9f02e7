import { randomBytes } from 'node:crypto';
import type { FaultSpec } from './emulator-options.js';
import type { Predictor } from './predictors.js';
import type { Scheduler } from './scheduler.js';

/** JSON as the emulated services receive and send it. */
export type JsonObject = Record<string, unknown>;

/** A production variant as an endpoint runs it. */
export interface VariantState {
  VariantName: string;
  ModelName: string;
  InstanceType?: string;
  CurrentWeight: number;
  DesiredWeight: number;
  CurrentInstanceCount?: number;
  DesiredInstanceCount?: number;
  ServerlessConfig?: JsonObject;
}

export interface EndpointRecord {
  EndpointName: string;
  EndpointArn: string;
  EndpointConfigName: string;
  EndpointStatus: string;
  FailureReason?: string;
  CreationTime: number;
  LastModifiedTime: number;
  variants: VariantState[];
  /** Bumped on every change so stale scheduled transitions do nothing. */
  generation: number;
  LastDeploymentConfig?: JsonObject;
  /** Instance ids per variant, for log stream names. */
  instanceIds: Map<string, string>;
}

export interface TrainingJobRecord {
  input: JsonObject;
  TrainingJobName: string;
  TrainingJobArn: string;
  TrainingJobStatus: string;
  SecondaryStatus: string;
  FailureReason?: string;
  CreationTime: number;
  TrainingStartTime?: number;
  TrainingEndTime?: number;
  LastModifiedTime: number;
  transitions: { Status: string; StartTime: number; EndTime?: number; StatusMessage: string }[];
  /** Simulated seconds spent training (what SageMaker bills), and of it, how much is billable. */
  trainingSeconds: number;
  billableSeconds: number;
  interruptionsLeft: number;
  finalMetrics?: { MetricName: string; Value: number; Timestamp: number }[];
  modelArtifacts?: string;
  generation: number;
}

export interface MetricDatapoint {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** Epoch ms. */
  timestamp: number;
  value: number;
  unit?: string;
}

export interface LogEvent {
  logStreamName: string;
  timestamp: number;
  ingestionTime: number;
  message: string;
  eventId: string;
  sequence: number;
}

export interface LogGroup {
  creationTime: number;
  streams: Map<string, { creationTime: number }>;
  events: LogEvent[];
}

export interface AlarmRecord {
  definition: JsonObject;
  AlarmArn: string;
  configuredAt: number;
  /** A state set by SetAlarmState, kept until a newer datapoint of the metric arrives. */
  manual?: { StateValue: string; StateReason: string; at: number };
  lastState: { StateValue: string; StateReason: string; at: number };
}

export interface ScalableTargetRecord {
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  MinCapacity: number;
  MaxCapacity: number;
  RoleARN?: string;
  SuspendedState?: JsonObject;
  CreationTime: number;
  ScalableTargetARN: string;
}

export interface ScalingPolicyRecord {
  input: JsonObject;
  PolicyARN: string;
  CreationTime: number;
  Alarms: { AlarmName: string; AlarmARN: string }[];
  /** When the policy was last evaluated, and the scaling it did (for cooldowns). */
  lastEvaluatedAt?: number;
  history: { lastScaleOutAt?: number; lastScaleInAt?: number };
}

/** One request as the emulator received it: for tests that check exactly what was sent. */
export interface RecordedRequest {
  /** `sagemaker`, `autoscaling`, `cloudwatch`, `logs` or `runtime`. */
  service: string;
  operation: string;
  /** The JSON input (for InvokeEndpoint: the endpoint name, content type and body as text). */
  input: JsonObject;
  time: Date;
  /** The error name the emulator answered with, if any. */
  error?: string;
}

/** The emulator's state and the helpers every service shares. */
export interface EmulatorContext {
  region: string;
  accountId: string;
  now: () => number;
  scheduler: Scheduler;
  delays: {
    endpointCreateMs: number;
    endpointUpdateMs: number;
    endpointDeleteMs: number;
    trainingStepMs: number;
    autoscalingEvaluationMs: number;
  };
  faults: FaultSpec[];
  badImages: Set<string>;
  predictor: Predictor;
  models: Map<string, JsonObject & { ModelName: string; ModelArn: string; CreationTime: number }>;
  endpointConfigs: Map<
    string,
    JsonObject & { EndpointConfigName: string; EndpointConfigArn: string; CreationTime: number }
  >;
  endpoints: Map<string, EndpointRecord>;
  trainingJobs: Map<string, TrainingJobRecord>;
  modelPackageGroups: Map<
    string,
    JsonObject & { ModelPackageGroupName: string; ModelPackageGroupArn: string; CreationTime: number }
  >;
  /** Versions of each group, version 1 first. */
  modelPackages: Map<
    string,
    (JsonObject & { ModelPackageArn: string; ModelPackageVersion: number; CreationTime: number })[]
  >;
  tags: Map<string, Map<string, string>>;
  metrics: MetricDatapoint[];
  logGroups: Map<string, LogGroup>;
  alarms: Map<string, AlarmRecord>;
  scalableTargets: Map<string, ScalableTargetRecord>;
  scalingPolicies: Map<string, ScalingPolicyRecord>;
  requests: RecordedRequest[];
  logSequence: number;
  arn(service: string, resource: string): string;
}

/** Seconds since the epoch, as AWS JSON protocols send timestamps. */
export function epochSeconds(milliseconds: number): number {
  return milliseconds / 1000;
}

/** Milliseconds from a timestamp the SDK sent (epoch seconds) or undefined. */
export function fromEpochSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string' && value.length > 0) {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed * 1000 : Date.parse(value);
  }
  return undefined;
}

/** Appends a line to a log group and stream, creating both as the services do. */
export function appendLog(
  context: EmulatorContext,
  groupName: string,
  streamName: string,
  message: string,
  timestamp: number = context.now(),
): void {
  let group = context.logGroups.get(groupName);
  if (!group) {
    group = { creationTime: timestamp, streams: new Map(), events: [] };
    context.logGroups.set(groupName, group);
  }
  if (!group.streams.has(streamName)) group.streams.set(streamName, { creationTime: timestamp });
  const sequence = context.logSequence++;
  group.events.push({
    logStreamName: streamName,
    timestamp,
    ingestionTime: Math.max(timestamp, context.now()),
    message,
    eventId: String(sequence).padStart(20, '0'),
    sequence,
  });
}

/** Records a datapoint as the service would publish it. */
export function recordMetric(
  context: EmulatorContext,
  namespace: string,
  metricName: string,
  dimensions: Record<string, string>,
  value: number,
  unit?: string,
  timestamp: number = context.now(),
): void {
  context.metrics.push({ namespace, metricName, dimensions, timestamp, value, ...(unit ? { unit } : {}) });
}

/** A SageMaker instance id, as in log stream names. */
export function instanceId(): string {
  return `i-${randomBytes(8).toString('hex').slice(0, 17)}`;
}

/** Reads `name` as a string field, or undefined. */
export function stringField(input: JsonObject, name: string): string | undefined {
  const value = input[name];
  return typeof value === 'string' ? value : undefined;
}
