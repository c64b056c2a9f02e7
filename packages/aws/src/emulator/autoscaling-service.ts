import { randomUUID } from 'node:crypto';
import { AwsServiceError } from './aws-service-error.js';
import {
  type EmulatorContext,
  epochSeconds,
  type JsonObject,
  type ScalableTargetRecord,
  stringField,
} from './emulator-context.js';
import { paginate } from './pagination.js';
import { startCapacityChange } from './sagemaker-service.js';

type Handler = (context: EmulatorContext, input: JsonObject) => JsonObject;

const variantResource = /^endpoint\/([^/]+)\/variant\/([^/]+)$/;
const instanceCountDimension = 'sagemaker:variant:DesiredInstanceCount';

function targetKey(namespace: unknown, resourceId: unknown, dimension: unknown): string {
  return `${String(namespace)}|${String(resourceId)}|${String(dimension)}`;
}

function requireTargetFields(input: JsonObject): {
  namespace: string;
  resourceId: string;
  dimension: string;
} {
  const namespace = stringField(input, 'ServiceNamespace');
  const resourceId = stringField(input, 'ResourceId');
  const dimension = stringField(input, 'ScalableDimension');
  if (!namespace || !resourceId || !dimension) {
    throw new AwsServiceError(
      'ValidationException',
      'ServiceNamespace, ResourceId and ScalableDimension are required.',
    );
  }
  if (namespace !== 'sagemaker') {
    throw new AwsServiceError(
      'ValidationException',
      `The emulator serves ServiceNamespace "sagemaker" only, got "${namespace}".`,
    );
  }
  if (dimension !== instanceCountDimension) {
    throw new AwsServiceError(
      'ValidationException',
      `Unsupported scalable dimension "${dimension}" for an endpoint variant.`,
    );
  }
  return { namespace, resourceId, dimension };
}

function notRegistered(namespace: string, resourceId: string, dimension: string): AwsServiceError {
  return new AwsServiceError(
    'ObjectNotFoundException',
    `No scalable target registered for service namespace: ${namespace}, resource ID: ${resourceId}, scalable dimension: ${dimension}`,
  );
}

/** Brings a variant's instance count into the target's bounds, as a scaling activity would. */
function clampCapacity(context: EmulatorContext, target: ScalableTargetRecord): void {
  const match = variantResource.exec(target.ResourceId);
  const endpoint = match ? context.endpoints.get(match[1]!) : undefined;
  const variant = endpoint?.variants.find((candidate) => candidate.VariantName === match?.[2]);
  if (
    !endpoint ||
    !variant ||
    variant.DesiredInstanceCount === undefined ||
    endpoint.EndpointStatus !== 'InService'
  )
    return;
  const clamped = Math.min(target.MaxCapacity, Math.max(target.MinCapacity, variant.DesiredInstanceCount));
  if (clamped !== variant.DesiredInstanceCount) {
    startCapacityChange(context, endpoint, [
      { VariantName: variant.VariantName, DesiredInstanceCount: clamped },
    ]);
  }
}

export const autoscalingHandlers: Readonly<Record<string, Handler>> = {
  RegisterScalableTarget(context, input) {
    const { namespace, resourceId, dimension } = requireTargetFields(input);
    const match = variantResource.exec(resourceId);
    const endpoint = match ? context.endpoints.get(match[1]!) : undefined;
    if (!match || !endpoint?.variants.some((variant) => variant.VariantName === match[2])) {
      throw new AwsServiceError(
        'ValidationException',
        `The resource ${resourceId} does not exist: expected endpoint/NAME/variant/VARIANT of an existing endpoint.`,
      );
    }
    if (
      endpoint.EndpointStatus === 'Creating' ||
      endpoint.EndpointStatus === 'Failed' ||
      endpoint.EndpointStatus === 'Deleting'
    ) {
      throw new AwsServiceError(
        'ValidationException',
        `Endpoint ${match[1]} is in status ${endpoint.EndpointStatus}: scalable targets can be registered once it is InService.`,
      );
    }
    if (endpoint.variants.find((variant) => variant.VariantName === match[2])?.ServerlessConfig) {
      throw new AwsServiceError(
        'ValidationException',
        `Variant ${match[2]} is serverless; register sagemaker:variant:DesiredProvisionedConcurrency instead.`,
      );
    }
    const key = targetKey(namespace, resourceId, dimension);
    const existing = context.scalableTargets.get(key);
    const minimum = typeof input.MinCapacity === 'number' ? input.MinCapacity : existing?.MinCapacity;
    const maximum = typeof input.MaxCapacity === 'number' ? input.MaxCapacity : existing?.MaxCapacity;
    if (minimum === undefined || maximum === undefined) {
      throw new AwsServiceError(
        'ValidationException',
        'MinCapacity and MaxCapacity are required when registering a new scalable target.',
      );
    }
    if (minimum > maximum) {
      throw new AwsServiceError(
        'ValidationException',
        `Minimum capacity ${minimum} cannot be greater than maximum capacity ${maximum}.`,
      );
    }
    const target: ScalableTargetRecord = {
      ServiceNamespace: namespace,
      ResourceId: resourceId,
      ScalableDimension: dimension,
      MinCapacity: minimum,
      MaxCapacity: maximum,
      ...(stringField(input, 'RoleARN') ? { RoleARN: stringField(input, 'RoleARN')! } : {}),
      ...(input.SuspendedState ? { SuspendedState: input.SuspendedState as JsonObject } : {}),
      CreationTime: existing?.CreationTime ?? context.now(),
      ScalableTargetARN:
        existing?.ScalableTargetARN ??
        context.arn('application-autoscaling', `scalable-target/${randomUUID().replaceAll('-', '')}`),
    };
    context.scalableTargets.set(key, target);
    clampCapacity(context, target);
    return { ScalableTargetARN: target.ScalableTargetARN };
  },

  DescribeScalableTargets(context, input) {
    const resourceIds = Array.isArray(input.ResourceIds) ? new Set(input.ResourceIds as string[]) : undefined;
    const items = [...context.scalableTargets.values()]
      .filter((target) => target.ServiceNamespace === input.ServiceNamespace)
      .filter((target) => !resourceIds || resourceIds.has(target.ResourceId))
      .filter((target) => !input.ScalableDimension || target.ScalableDimension === input.ScalableDimension)
      .map((target) => ({ ...target, CreationTime: epochSeconds(target.CreationTime) }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 50);
    return { ScalableTargets: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  DeregisterScalableTarget(context, input) {
    const { namespace, resourceId, dimension } = requireTargetFields(input);
    const key = targetKey(namespace, resourceId, dimension);
    if (!context.scalableTargets.delete(key)) throw notRegistered(namespace, resourceId, dimension);
    for (const [policyKey, policy] of context.scalingPolicies) {
      if (policyKey.startsWith(`${key}|`)) {
        for (const alarm of policy.Alarms) context.alarms.delete(alarm.AlarmName);
        context.scalingPolicies.delete(policyKey);
      }
    }
    return {};
  },

  PutScalingPolicy(context, input) {
    const { namespace, resourceId, dimension } = requireTargetFields(input);
    const policyName = stringField(input, 'PolicyName');
    if (!policyName) throw new AwsServiceError('ValidationException', 'PolicyName is required.');
    const key = targetKey(namespace, resourceId, dimension);
    if (!context.scalableTargets.has(key)) throw notRegistered(namespace, resourceId, dimension);
    const policyType = stringField(input, 'PolicyType') ?? 'StepScaling';
    const configuration = input.TargetTrackingScalingPolicyConfiguration as JsonObject | undefined;
    if (policyType === 'TargetTrackingScaling') {
      if (!configuration || typeof configuration.TargetValue !== 'number') {
        throw new AwsServiceError(
          'ValidationException',
          'TargetTrackingScalingPolicyConfiguration.TargetValue is required.',
        );
      }
      if (!configuration.PredefinedMetricSpecification && !configuration.CustomizedMetricSpecification) {
        throw new AwsServiceError(
          'ValidationException',
          'Either PredefinedMetricSpecification or CustomizedMetricSpecification must be specified.',
        );
      }
    }
    const policyKey = `${key}|${policyName}`;
    const existing = context.scalingPolicies.get(policyKey);
    for (const alarm of existing?.Alarms ?? []) context.alarms.delete(alarm.AlarmName);
    const id = randomUUID();
    const alarms = ['AlarmHigh', 'AlarmLow'].map((suffix) => {
      const AlarmName = `TargetTracking-${resourceId}-${suffix}-${id}`;
      return { AlarmName, AlarmARN: context.arn('cloudwatch', `alarm:${AlarmName}`) };
    });
    const PolicyARN =
      existing?.PolicyARN ??
      context.arn(
        'autoscaling',
        `scalingPolicy:${id}:resource/${namespace}/${resourceId}:policyName/${policyName}`,
      );
    context.scalingPolicies.set(policyKey, {
      input,
      PolicyARN,
      CreationTime: existing?.CreationTime ?? context.now(),
      Alarms: alarms,
      history: existing?.history ?? {},
    });
    return { PolicyARN, Alarms: alarms };
  },

  DescribeScalingPolicies(context, input) {
    const names = Array.isArray(input.PolicyNames) ? new Set(input.PolicyNames as string[]) : undefined;
    const items = [...context.scalingPolicies.values()]
      .filter((policy) => policy.input.ServiceNamespace === input.ServiceNamespace)
      .filter((policy) => !input.ResourceId || policy.input.ResourceId === input.ResourceId)
      .filter(
        (policy) => !input.ScalableDimension || policy.input.ScalableDimension === input.ScalableDimension,
      )
      .filter((policy) => !names || names.has(String(policy.input.PolicyName)))
      .map((policy) => ({
        PolicyARN: policy.PolicyARN,
        PolicyName: policy.input.PolicyName,
        ServiceNamespace: policy.input.ServiceNamespace,
        ResourceId: policy.input.ResourceId,
        ScalableDimension: policy.input.ScalableDimension,
        PolicyType: policy.input.PolicyType ?? 'StepScaling',
        ...(policy.input.TargetTrackingScalingPolicyConfiguration
          ? {
              TargetTrackingScalingPolicyConfiguration: policy.input.TargetTrackingScalingPolicyConfiguration,
            }
          : {}),
        ...(policy.input.StepScalingPolicyConfiguration
          ? { StepScalingPolicyConfiguration: policy.input.StepScalingPolicyConfiguration }
          : {}),
        Alarms: policy.Alarms,
        CreationTime: epochSeconds(policy.CreationTime),
      }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { ScalingPolicies: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  DeleteScalingPolicy(context, input) {
    const { namespace, resourceId, dimension } = requireTargetFields(input);
    const policyName = stringField(input, 'PolicyName') ?? '';
    const policyKey = `${targetKey(namespace, resourceId, dimension)}|${policyName}`;
    const policy = context.scalingPolicies.get(policyKey);
    if (!policy) {
      throw new AwsServiceError(
        'ObjectNotFoundException',
        `No scaling policy found for service namespace: ${namespace}, resource ID: ${resourceId}, scalable dimension: ${dimension}, policy name: ${policyName}`,
      );
    }
    for (const alarm of policy.Alarms) context.alarms.delete(alarm.AlarmName);
    context.scalingPolicies.delete(policyKey);
    return {};
  },
};
