import { decideScaling } from '@mlscale/core';
import { statistic } from './cloudwatch-service.js';
import type { EmulatorContext, JsonObject, ScalingPolicyRecord } from './emulator-context.js';
import { startCapacityChange } from './sagemaker-service.js';

const variantResource = /^endpoint\/([^/]+)\/variant\/([^/]+)$/;
/** Target tracking looks at the last minute of data, as its CloudWatch alarms do. */
const windowMs = 60_000;

function dimensionsOf(value: unknown): Record<string, string> {
  return Object.fromEntries(
    ((Array.isArray(value) ? value : []) as JsonObject[]).map((entry) => [
      String(entry.Name),
      String(entry.Value),
    ]),
  );
}

/** The policy's metric over the last minute, or undefined when there is no data (no scaling then). */
function metricValue(
  context: EmulatorContext,
  policy: ScalingPolicyRecord,
  endpoint: string,
  variant: string,
  instances: number,
): number | undefined {
  const configuration = (policy.input.TargetTrackingScalingPolicyConfiguration ?? {}) as JsonObject;
  const since = context.now() - windowMs;
  const values = (namespace: string, name: string, dimensions: Record<string, string>) =>
    context.metrics
      .filter(
        (point) =>
          point.timestamp >= since &&
          point.namespace === namespace &&
          point.metricName === name &&
          Object.keys(dimensions).length === Object.keys(point.dimensions).length &&
          Object.entries(dimensions).every(([key, value]) => point.dimensions[key] === value),
      )
      .map((point) => point.value);
  const predefined = (configuration.PredefinedMetricSpecification as JsonObject | undefined)
    ?.PredefinedMetricType;
  if (predefined === 'SageMakerVariantInvocationsPerInstance') {
    const invocations = values('AWS/SageMaker', 'Invocations', {
      EndpointName: endpoint,
      VariantName: variant,
    });
    return invocations.length === 0 ? undefined : invocations.length / Math.max(1, instances);
  }
  const custom = configuration.CustomizedMetricSpecification as JsonObject | undefined;
  if (!custom) return undefined;
  const stat = (custom.Metrics as JsonObject[] | undefined)?.[0]?.MetricStat as JsonObject | undefined;
  const metric = (stat?.Metric ?? custom) as JsonObject;
  const found = values(String(metric.Namespace), String(metric.MetricName), dimensionsOf(metric.Dimensions));
  return statistic(found, String(stat?.Stat ?? custom.Statistic ?? 'Average'));
}

/**
 * Runs Application Auto Scaling's target tracking against the metrics the emulator recorded: each
 * policy at most once per `autoscalingEvaluationMs`, with core's target-tracking arithmetic and the
 * policy's cooldowns, changing the variant's instance count as a scaling activity would.
 */
export function runScalingActivities(context: EmulatorContext): void {
  const now = context.now();
  for (const policy of context.scalingPolicies.values()) {
    if (policy.input.PolicyType !== 'TargetTrackingScaling') continue;
    if (
      policy.lastEvaluatedAt !== undefined &&
      now - policy.lastEvaluatedAt < context.delays.autoscalingEvaluationMs
    )
      continue;
    policy.lastEvaluatedAt = now;
    const resourceId = String(policy.input.ResourceId);
    const target = context.scalableTargets.get(
      `${String(policy.input.ServiceNamespace)}|${resourceId}|${String(policy.input.ScalableDimension)}`,
    );
    const match = variantResource.exec(resourceId);
    const endpoint = match ? context.endpoints.get(match[1]!) : undefined;
    const variant = endpoint?.variants.find((candidate) => candidate.VariantName === match?.[2]);
    if (
      !target ||
      !endpoint ||
      !variant ||
      endpoint.EndpointStatus !== 'InService' ||
      variant.CurrentInstanceCount === undefined
    )
      continue;
    if ((target.SuspendedState as JsonObject | undefined)?.DynamicScalingOutSuspended === true) continue;
    const value = metricValue(
      context,
      policy,
      endpoint.EndpointName,
      variant.VariantName,
      variant.CurrentInstanceCount,
    );
    if (value === undefined) continue;
    const configuration = (policy.input.TargetTrackingScalingPolicyConfiguration ?? {}) as JsonObject;
    const decision = decideScaling({
      policy: {
        minReplicas: target.MinCapacity,
        maxReplicas: target.MaxCapacity,
        target: { metric: 'requestsPerSecond', value: Number(configuration.TargetValue) },
        scaleInCooldownSeconds: Number(configuration.ScaleInCooldown ?? 300),
        scaleOutCooldownSeconds: Number(configuration.ScaleOutCooldown ?? 300),
        tolerance: 0.1,
        scaleToZeroAfterSeconds: 0,
      },
      currentReplicas: variant.CurrentInstanceCount,
      metricValue: value,
      now,
      history: policy.history,
    });
    if (decision.action === 'none') continue;
    if (decision.action === 'scaleIn' && configuration.DisableScaleIn === true) continue;
    if (decision.action === 'scaleOut') policy.history.lastScaleOutAt = now;
    else policy.history.lastScaleInAt = now;
    startCapacityChange(context, endpoint, [
      { VariantName: variant.VariantName, DesiredInstanceCount: decision.replicas },
    ]);
  }
}
