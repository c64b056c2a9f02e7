import { AwsServiceError, constraintViolation } from './aws-service-error.js';
import type { EmulatorContext, JsonObject } from './emulator-context.js';

/*
 * UpdateEndpoint's DeploymentConfig, bounded as the SageMaker API reference documents it:
 * - TrafficRoutingConfig: Type ALL_AT_ONCE | CANARY | LINEAR (required); WaitIntervalInSeconds 0–3600
 *   (required); CanarySize "must be less than or equal to 50% of the variant's total instance count";
 *   LinearStepSize "must be 10-50% of the variant's total instance count".
 * - CapacitySize: Type INSTANCE_COUNT | CAPACITY_PERCENT; Value an integer of at least 1.
 * - BlueGreenUpdatePolicy: TrafficRoutingConfiguration required; TerminationWaitInSeconds 0–3600;
 *   MaximumExecutionTimeoutInSeconds 600–28800, and "should be larger than the total waiting time
 *   specified in TerminationWaitInSeconds and WaitIntervalInSeconds".
 * - AutoRollbackConfig.Alarms: 1–10 items; Alarm.AlarmName 1–255 characters.
 * - "When doing a blue/green or rolling deployment, your new endpoint configuration must have the same
 *   variant name as the old endpoint configuration" (Developer Guide, deployment guardrails, Exclusions).
 * Range and enum violations use AWS's request-validation wording (confirmed format); the messages of the
 * checks that relate fields to each other and to the fleet are in AWS's style but not confirmed.
 * ⚠ The variant-name refusal's wording is the guide's rule, not a captured SageMaker response.
 */

const routingTypes = ['ALL_AT_ONCE', 'CANARY', 'LINEAR'] as const;
const capacityTypes = ['INSTANCE_COUNT', 'CAPACITY_PERCENT'] as const;
const policyPath = 'deploymentConfig.blueGreenUpdatePolicy';
const routingPath = `${policyPath}.trafficRoutingConfiguration`;

function objectAt(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

function requireInteger(path: string, value: unknown, minimum: number, maximum?: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AwsServiceError(
      'SerializationException',
      `Cannot deserialize ${JSON.stringify(value)} at '${path}' as an integer.`,
    );
  }
  if (value < minimum)
    throw constraintViolation(path, value, `Member must have value greater than or equal to ${minimum}`);
  if (maximum !== undefined && value > maximum) {
    throw constraintViolation(path, value, `Member must have value less than or equal to ${maximum}`);
  }
  return value;
}

function requireEnum(path: string, value: unknown, allowed: readonly string[]): string {
  if (value === undefined || value === null)
    throw constraintViolation(path, value, 'Member must not be null');
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw constraintViolation(path, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value;
}

/** A CapacitySize as SageMaker models it. */
export interface CapacitySize {
  Type: (typeof capacityTypes)[number];
  Value: number;
}

function capacitySize(path: string, value: unknown): CapacitySize | undefined {
  if (value === undefined || value === null) return undefined;
  const size = objectAt(value) ?? {};
  return {
    Type: requireEnum(`${path}.type`, size.Type, capacityTypes) as CapacitySize['Type'],
    Value: requireInteger(`${path}.value`, size.Value, 1),
  };
}

/** The parts of a DeploymentConfig the emulator acts on, once its members passed validation. */
export interface DeploymentPlan {
  routingType: (typeof routingTypes)[number];
  waitSeconds: number;
  canarySize?: CapacitySize;
  linearStepSize?: CapacitySize;
  terminationWaitSeconds: number;
  maximumExecutionSeconds?: number;
  alarmNames: string[];
}

/**
 * Checks each member of a DeploymentConfig against its modelled constraint (what AWS validates before
 * it looks at any resource). Returns undefined when there is no DeploymentConfig.
 */
export function parseDeploymentConfig(value: unknown): DeploymentPlan | undefined {
  if (value === undefined || value === null) return undefined;
  const config = objectAt(value);
  if (!config)
    throw new AwsServiceError('SerializationException', "Expected an object at 'DeploymentConfig'.");
  const policy = objectAt(config.BlueGreenUpdatePolicy);
  const rollback = objectAt(config.AutoRollbackConfiguration);
  let plan: DeploymentPlan = {
    routingType: 'ALL_AT_ONCE',
    waitSeconds: 0,
    terminationWaitSeconds: 0,
    alarmNames: [],
  };
  if (policy) {
    const routing = objectAt(policy.TrafficRoutingConfiguration);
    if (!routing) throw constraintViolation(routingPath, undefined, 'Member must not be null');
    const routingType = requireEnum(
      `${routingPath}.type`,
      routing.Type,
      routingTypes,
    ) as DeploymentPlan['routingType'];
    if (routing.WaitIntervalInSeconds === undefined || routing.WaitIntervalInSeconds === null) {
      throw constraintViolation(`${routingPath}.waitIntervalInSeconds`, undefined, 'Member must not be null');
    }
    const waitSeconds = requireInteger(
      `${routingPath}.waitIntervalInSeconds`,
      routing.WaitIntervalInSeconds,
      0,
      3600,
    );
    const canarySize = capacitySize(`${routingPath}.canarySize`, routing.CanarySize);
    const linearStepSize = capacitySize(`${routingPath}.linearStepSize`, routing.LinearStepSize);
    const terminationWaitSeconds =
      policy.TerminationWaitInSeconds === undefined || policy.TerminationWaitInSeconds === null
        ? 0
        : requireInteger(`${policyPath}.terminationWaitInSeconds`, policy.TerminationWaitInSeconds, 0, 3600);
    const maximum =
      policy.MaximumExecutionTimeoutInSeconds === undefined ||
      policy.MaximumExecutionTimeoutInSeconds === null
        ? undefined
        : requireInteger(
            `${policyPath}.maximumExecutionTimeoutInSeconds`,
            policy.MaximumExecutionTimeoutInSeconds,
            600,
            28_800,
          );
    plan = {
      routingType,
      waitSeconds,
      ...(canarySize ? { canarySize } : {}),
      ...(linearStepSize ? { linearStepSize } : {}),
      terminationWaitSeconds,
      ...(maximum !== undefined ? { maximumExecutionSeconds: maximum } : {}),
      alarmNames: [],
    };
  }
  if (rollback && rollback.Alarms !== undefined && rollback.Alarms !== null) {
    const alarms = rollback.Alarms;
    const path = 'deploymentConfig.autoRollbackConfiguration.alarms';
    if (!Array.isArray(alarms))
      throw new AwsServiceError('SerializationException', `Expected a list at '${path}'.`);
    if (alarms.length < 1)
      throw constraintViolation(path, alarms, 'Member must have length greater than or equal to 1');
    if (alarms.length > 10) {
      throw constraintViolation(
        path,
        alarms.map((alarm) => objectAt(alarm)?.AlarmName),
        'Member must have length less than or equal to 10',
      );
    }
    plan.alarmNames = alarms.map((alarm, index) => {
      const name = objectAt(alarm)?.AlarmName;
      const memberPath = `${path}.${index + 1}.member.alarmName`;
      if (typeof name !== 'string') throw constraintViolation(memberPath, name, 'Member must not be null');
      if (name.length < 1)
        throw constraintViolation(memberPath, name, 'Member must have length greater than or equal to 1');
      if (name.length > 255)
        throw constraintViolation(memberPath, name, 'Member must have length less than or equal to 255');
      return name;
    });
  }
  return plan;
}

/** A variant of the endpoint config being deployed, as far as traffic shifting needs it. */
export interface TargetVariant {
  VariantName: string;
  /** Undefined for serverless variants. */
  InitialInstanceCount?: number;
}

/** How many traffic-shifting steps SageMaker takes (each followed by a wait) for one variant. */
function shiftingSteps(plan: DeploymentPlan, instances: number): number {
  const step = plan.routingType === 'LINEAR' ? plan.linearStepSize : undefined;
  if (!step) return 1;
  return step.Type === 'CAPACITY_PERCENT' ? Math.ceil(100 / step.Value) : Math.ceil(instances / step.Value);
}

function percentOf(size: CapacitySize, instances: number): number {
  return size.Type === 'CAPACITY_PERCENT' ? size.Value : (size.Value / Math.max(1, instances)) * 100;
}

function sortedList(names: readonly string[]): string {
  return `[${[...names].sort().join(', ')}]`;
}

/**
 * A DeploymentConfig (traffic shifting, rollback alarms) needs the new endpoint config to keep the
 * running variants' names: SageMaker shifts each variant's traffic to the variant of that name.
 */
export function checkVariantNamesKept(running: readonly string[], next: readonly string[]): void {
  if (sortedList(running) === sortedList(next)) return;
  throw new AwsServiceError(
    'ValidationException',
    `The new endpoint configuration must have the same variant names as the endpoint's current configuration when DeploymentConfig is specified: current variant(s) ${sortedList(running)}, new variant(s) ${sortedList(next)}.`,
  );
}

/**
 * The checks that relate the DeploymentConfig to itself, to the new fleet and to CloudWatch: the
 * canary and linear step sizes against each variant's instance count, the execution timeout against
 * the waits the routing implies, and the rollback alarms against the alarms CloudWatch holds.
 */
export function checkDeploymentPlan(
  context: EmulatorContext,
  plan: DeploymentPlan,
  variants: readonly TargetVariant[],
): void {
  const fleets = variants.filter((variant) => variant.InitialInstanceCount !== undefined);
  if (plan.routingType === 'CANARY') {
    const canary = plan.canarySize;
    if (!canary) {
      throw new AwsServiceError(
        'ValidationException',
        `CanarySize must be specified in ${routingPath} when its Type is CANARY.`,
      );
    }
    for (const variant of fleets) {
      const percent = percentOf(canary, variant.InitialInstanceCount!);
      if (percent > 50) {
        throw new AwsServiceError(
          'ValidationException',
          `CanarySize ${canary.Value} (${canary.Type}) is ${Math.round(percent)}% of production variant ${variant.VariantName}'s ${variant.InitialInstanceCount} instance(s); the canary must be at most 50% of the variant's total instance count.`,
        );
      }
    }
  }
  if (plan.routingType === 'LINEAR') {
    const step = plan.linearStepSize;
    if (!step) {
      throw new AwsServiceError(
        'ValidationException',
        `LinearStepSize must be specified in ${routingPath} when its Type is LINEAR.`,
      );
    }
    for (const variant of fleets) {
      const percent = percentOf(step, variant.InitialInstanceCount!);
      if (percent < 10 || percent > 50) {
        throw new AwsServiceError(
          'ValidationException',
          `LinearStepSize ${step.Value} (${step.Type}) is ${Math.round(percent)}% of production variant ${variant.VariantName}'s ${variant.InitialInstanceCount} instance(s); each linear step must be 10-50% of the variant's total instance count.`,
        );
      }
    }
  }
  if (plan.maximumExecutionSeconds !== undefined) {
    const largest = Math.max(1, ...fleets.map((variant) => variant.InitialInstanceCount!));
    const steps = shiftingSteps(plan, largest);
    const totalWait = steps * plan.waitSeconds + plan.terminationWaitSeconds;
    if (plan.maximumExecutionSeconds <= totalWait) {
      throw new AwsServiceError(
        'ValidationException',
        `MaximumExecutionTimeoutInSeconds (${plan.maximumExecutionSeconds}) must be larger than the total waiting time of the deployment: ${steps} traffic-shifting step(s) × WaitIntervalInSeconds ${plan.waitSeconds} + TerminationWaitInSeconds ${plan.terminationWaitSeconds} = ${totalWait} seconds.`,
      );
    }
  }
  const missing = plan.alarmNames.filter((name) => !context.alarms.has(name));
  if (missing.length > 0) {
    throw new AwsServiceError(
      'ValidationException',
      `The CloudWatch alarm(s) [${missing.join(', ')}] in DeploymentConfig.AutoRollbackConfiguration.Alarms do not exist in account ${context.accountId}, region ${context.region}.`,
    );
  }
}
