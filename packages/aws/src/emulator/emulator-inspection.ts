import type { EmulatorContext } from './emulator-context.js';

/** The AWS services the emulator speaks, as their SDK clients are named. */
export type EmulatedService =
  | 'SageMaker'
  | 'SageMakerRuntime'
  | 'ApplicationAutoScaling'
  | 'CloudWatch'
  | 'CloudWatchLogs';

/** One request the emulator received, whatever it answered (faults and refusals included). */
export interface EmulatorCall {
  /** The service the request was for. */
  service: EmulatedService;
  /** The API operation (`CreateEndpoint`, `InvokeEndpoint`, `PutMetricAlarm`, ...). */
  operation: string;
  /** When it arrived, epoch ms. */
  time: number;
}

/**
 * Called once the emulator has carried out a request (its state changed) and before it writes the
 * answer: aborting the client here is a process dying right after the cloud accepted the call. Only
 * requests that succeed are announced. A returned promise is awaited before the answer is written.
 */
export type RequestListener = (call: { service: EmulatedService; operation: string }) => void | Promise<void>;

/** Names and ids of what the emulated account holds now, each list sorted. */
export interface EmulatorInventory {
  /** Endpoint names, in any status (Deleting ones until they are gone). */
  endpoints: string[];
  /** Endpoint config names. */
  endpointConfigs: string[];
  /** Model names. */
  models: string[];
  /** Scalable target resource ids: `endpoint/NAME/variant/VARIANT`. */
  scalableTargets: string[];
  /** Scaling policies as their ARNs end: `endpoint/NAME/variant/VARIANT:policyName/POLICY`. */
  scalingPolicies: string[];
  /** CloudWatch alarm names (as DescribeAlarms lists them). */
  alarms: string[];
  /** Training job names. */
  trainingJobs: string[];
  /** Model package group names (the Model Registry). */
  modelPackageGroups: string[];
}

/** What a container environment's values are replaced with in `dump()`. */
export const containerEnvironmentPlaceholder = '[container environment]';

export function inventoryOf(context: EmulatorContext): EmulatorInventory {
  const sorted = (names: Iterable<string>) => [...names].sort();
  return {
    endpoints: sorted(context.endpoints.keys()),
    endpointConfigs: sorted(context.endpointConfigs.keys()),
    models: sorted(context.models.keys()),
    scalableTargets: sorted([...context.scalableTargets.values()].map((target) => target.ResourceId)),
    scalingPolicies: sorted(
      [...context.scalingPolicies.values()].map(
        (policy) => `${String(policy.input.ResourceId)}:policyName/${String(policy.input.PolicyName)}`,
      ),
    ),
    alarms: sorted(context.alarms.keys()),
    trainingJobs: sorted(context.trainingJobs.keys()),
    modelPackageGroups: sorted(context.modelPackageGroups.keys()),
  };
}

/**
 * The whole stored state as JSON text: resources with their tags, metrics, log events, alarms and
 * autoscaling. Every `Environment` (the environment of a model's, model package's or training job's
 * container, where AWS legitimately holds secrets) is replaced by "[container environment]". The
 * request log, faults and scheduled work are not state and are left out.
 */
export function dumpState(context: EmulatorContext): string {
  const state = {
    region: context.region,
    accountId: context.accountId,
    models: [...context.models.values()],
    endpointConfigs: [...context.endpointConfigs.values()],
    endpoints: [...context.endpoints.values()].map(({ instanceIds, ...endpoint }) => ({
      ...endpoint,
      instanceIds: Object.fromEntries(instanceIds),
    })),
    trainingJobs: [...context.trainingJobs.values()],
    modelPackageGroups: [...context.modelPackageGroups.values()],
    modelPackages: Object.fromEntries(context.modelPackages),
    tags: Object.fromEntries([...context.tags].map(([arn, tags]) => [arn, Object.fromEntries(tags)])),
    alarms: Object.fromEntries(context.alarms),
    scalableTargets: [...context.scalableTargets.values()],
    scalingPolicies: [...context.scalingPolicies.values()],
    metrics: context.metrics,
    logGroups: Object.fromEntries(
      [...context.logGroups].map(([name, group]) => [
        name,
        { ...group, streams: Object.fromEntries(group.streams) },
      ]),
    ),
  };
  return JSON.stringify(state, (key, value: unknown) =>
    key === 'Environment' && typeof value === 'object' && value !== null
      ? containerEnvironmentPlaceholder
      : value,
  );
}
