import type { protos } from '@google-cloud/aiplatform';
import type { AutoscalingPolicy, DeploymentSpec } from '@mlscale/core';
import { invalidSpec } from './errors.js';
import { deploymentOptions } from './provider-options.js';
import type { VertexSettings } from './settings.js';
import { assertTrafficExpressible } from './traffic-limits.js';

type IDedicatedResources = protos.google.cloud.aiplatform.v1.IDedicatedResources;
type IAutoscalingMetricSpec = protos.google.cloud.aiplatform.v1.IAutoscalingMetricSpec;

const metricPrefix = 'aiplatform.googleapis.com/prediction/online/';

/** `nvidia-tesla-t4` → `NVIDIA_TESLA_T4`; `gpu` → the settings' default type. */
export function acceleratorType(type: string, settings: VertexSettings): string {
  if (type === 'gpu') return settings.defaultAcceleratorType;
  const name = type.toUpperCase().replace(/[-.\s]/g, '_');
  if (!/^[A-Z0-9_]+$/.test(name)) {
    throw invalidSpec(
      'instance.accelerator.type',
      `expected a Vertex AcceleratorType such as nvidia-tesla-t4 or NVIDIA_L4, got "${type}"`,
    );
  }
  return name;
}

/**
 * A target-tracking policy as Vertex autoscaling metric specs. Vertex tracks CPU utilization,
 * accelerator duty cycle (percent targets) and request count (per replica per minute, ⚠ from the field's
 * name: the proto documents only percentages); it has no cooldown or tolerance knobs.
 */
export function autoscalingMetricSpecs(policy: AutoscalingPolicy): IAutoscalingMetricSpec[] {
  const { metric, value } = policy.target;
  switch (metric) {
    case 'cpuUtilization':
    case 'gpuUtilization':
      if (value > 100)
        throw invalidSpec(
          'autoscaling.target.value',
          `expected a percentage from 1 to 100 for ${metric}, got ${value}`,
        );
      return [
        {
          metricName: `${metricPrefix}${metric === 'cpuUtilization' ? 'cpu/utilization' : 'accelerator/duty_cycle'}`,
          target: Math.max(1, Math.round(value)),
        },
      ];
    case 'requestsPerSecond':
      return [{ metricName: `${metricPrefix}request_count`, target: Math.max(1, Math.round(value * 60)) }];
    default:
      throw invalidSpec(
        'autoscaling.target.metric',
        `Vertex AI autoscales on cpuUtilization, gpuUtilization or requestsPerSecond, not ${metric}`,
      );
  }
}

/** Replica bounds: min ≥ 1 (Vertex v1 has no scale to zero); fixed replicas set min = max. */
export function replicaBounds(
  replicas: number,
  policy: AutoscalingPolicy | undefined,
): { min: number; max: number } {
  if (policy) return { min: Math.max(1, policy.minReplicas), max: Math.max(1, policy.maxReplicas) };
  if (replicas < 1) {
    throw invalidSpec(
      'replicas',
      'expected at least 1: Vertex AI serves with one replica or more (delete the deployment to stop serving)',
    );
  }
  return { min: replicas, max: replicas };
}

/** DeployModel's `dedicated_resources` for a spec. */
export function dedicatedResources(spec: DeploymentSpec, settings: VertexSettings): IDedicatedResources {
  const options = deploymentOptions(spec.providerOptions?.gcp);
  const machineSpec: protos.google.cloud.aiplatform.v1.IMachineSpec = {
    machineType: spec.instance?.type ?? options.machineType ?? settings.defaultMachineType,
  };
  if (spec.instance?.accelerator) {
    machineSpec.acceleratorType = acceleratorType(spec.instance.accelerator.type, settings) as never;
    machineSpec.acceleratorCount = spec.instance.accelerator.count;
  }
  const { min, max } = replicaBounds(spec.replicas, spec.autoscaling);
  return {
    machineSpec,
    minReplicaCount: min,
    maxReplicaCount: max,
    ...(spec.autoscaling ? { autoscalingMetricSpecs: autoscalingMetricSpecs(spec.autoscaling) } : {}),
    ...(options.spot ? { spot: true } : {}),
  };
}

/** Checks what Vertex cannot express before anything is created or changed. */
export function checkDeploymentSpec(spec: DeploymentSpec, settings: VertexSettings): void {
  assertTrafficExpressible(spec);
  const options = deploymentOptions(spec.providerOptions?.gcp);
  if (spec.serverless)
    throw invalidSpec('serverless', 'Vertex AI has no serverless endpoints for custom containers');
  if (spec.network?.subnets?.length || spec.network?.securityGroups?.length) {
    throw invalidSpec(
      'network',
      'Vertex AI places private endpoints in a VPC network (providerOptions.gcp.network), not in subnets or security groups',
    );
  }
  if (spec.network?.private && !options.network) {
    throw invalidSpec(
      'providerOptions.gcp.network',
      'expected the VPC network of the private endpoint (projects/{number}/global/networks/{name})',
    );
  }
  dedicatedResources(spec, settings);
}

/**
 * Integer percentages that sum to exactly 100 (largest remainder), as Endpoint.traffic_split needs,
 * from weights of any scale.
 */
export function integerPercentages(weights: number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (weights.length === 0) return [];
  if (total <= 0) return weights.map((_, index) => (index === 0 ? 100 : 0));
  const exact = weights.map((weight) => (weight / total) * 100);
  const result = exact.map(Math.floor);
  let missing = 100 - result.reduce((sum, value) => sum + value, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (missing <= 0) break;
    result[index]! += 1;
    missing -= 1;
  }
  return result;
}
