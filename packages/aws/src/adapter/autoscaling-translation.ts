import type {
  PutScalingPolicyCommandInput,
  ScalableTarget,
  ScalingPolicy,
  TargetTrackingScalingPolicyConfiguration,
} from '@aws-sdk/client-application-auto-scaling';
import type { AutoscalingMetric, AutoscalingPolicy } from '@mlscale/core';
import { variantResourceId } from './resource-names.js';

export const scalableDimension = 'sagemaker:variant:DesiredInstanceCount';
export const scalingPolicyName = 'mlscale-target-tracking';

/**
 * How each mlscale metric maps to Application Auto Scaling's target tracking, and how its target value
 * converts (SageMaker counts invocations per minute, latency in microseconds).
 */
function metricSpecification(
  metric: AutoscalingMetric,
  endpoint: string,
  variant: string,
): Omit<TargetTrackingScalingPolicyConfiguration, 'TargetValue'> & { scale: number } {
  const dimensions = [
    { Name: 'EndpointName', Value: endpoint },
    { Name: 'VariantName', Value: variant },
  ];
  switch (metric) {
    case 'requestsPerSecond':
      return {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        scale: 60,
      };
    case 'concurrentRequests':
      return {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerVariantConcurrentRequestsPerModelHighResolution',
        },
        scale: 1,
      };
    case 'cpuUtilization':
    case 'gpuUtilization':
      return {
        CustomizedMetricSpecification: {
          MetricName: metric === 'cpuUtilization' ? 'CPUUtilization' : 'GPUUtilization',
          Namespace: '/aws/sagemaker/Endpoints',
          Dimensions: dimensions,
          Statistic: 'Average',
          Unit: 'Percent',
        },
        scale: 1,
      };
    case 'latencyP95':
      return {
        CustomizedMetricSpecification: {
          Metrics: [
            {
              Id: 'latency',
              MetricStat: {
                Metric: { MetricName: 'ModelLatency', Namespace: 'AWS/SageMaker', Dimensions: dimensions },
                Stat: 'p95',
                Unit: 'Microseconds',
              },
              ReturnData: true,
            },
          ],
        },
        scale: 1000,
      };
  }
}

/** PutScalingPolicy for one variant. */
export function scalingPolicyRequest(
  policy: AutoscalingPolicy,
  endpoint: string,
  variant: string,
): PutScalingPolicyCommandInput {
  const { scale, ...specification } = metricSpecification(policy.target.metric, endpoint, variant);
  return {
    PolicyName: scalingPolicyName,
    ServiceNamespace: 'sagemaker',
    ResourceId: variantResourceId(endpoint, variant),
    ScalableDimension: scalableDimension,
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: policy.target.value * scale,
      ...specification,
      ScaleInCooldown: policy.scaleInCooldownSeconds,
      ScaleOutCooldown: policy.scaleOutCooldownSeconds,
      DisableScaleIn: false,
    },
  };
}

/** The policy in force, read back from a variant's scalable target and scaling policy. */
export function policyFromAutoScaling(
  target: ScalableTarget,
  policy: ScalingPolicy | undefined,
  recorded: AutoscalingPolicy | undefined,
): AutoscalingPolicy | undefined {
  const configuration = policy?.TargetTrackingScalingPolicyConfiguration;
  if (!configuration) return undefined;
  let metric: AutoscalingMetric | undefined;
  let scale = 1;
  const predefined = configuration.PredefinedMetricSpecification?.PredefinedMetricType;
  const custom = configuration.CustomizedMetricSpecification;
  if (predefined === 'SageMakerVariantInvocationsPerInstance') {
    metric = 'requestsPerSecond';
    scale = 60;
  } else if (predefined === 'SageMakerVariantConcurrentRequestsPerModelHighResolution') {
    metric = 'concurrentRequests';
  } else if (custom?.MetricName === 'CPUUtilization') {
    metric = 'cpuUtilization';
  } else if (custom?.MetricName === 'GPUUtilization') {
    metric = 'gpuUtilization';
  } else if (custom?.Metrics?.[0]?.MetricStat?.Metric?.MetricName === 'ModelLatency') {
    metric = 'latencyP95';
    scale = 1000;
  }
  if (!metric) return undefined;
  return {
    minReplicas: target.MinCapacity ?? 1,
    maxReplicas: target.MaxCapacity ?? 1,
    target: { metric, value: (configuration.TargetValue ?? 0) / scale },
    scaleInCooldownSeconds: configuration.ScaleInCooldown ?? 300,
    scaleOutCooldownSeconds: configuration.ScaleOutCooldown ?? 300,
    // Application Auto Scaling has no tolerance band or idle delay: the recorded spec's values are kept.
    tolerance: recorded?.tolerance ?? 0.1,
    scaleToZeroAfterSeconds: recorded?.scaleToZeroAfterSeconds ?? 300,
  };
}
