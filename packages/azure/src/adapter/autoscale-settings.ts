import type { AutoscaleSettingResource, ScaleRule } from '@azure/arm-monitor';
import { type AutoscalingMetric, type AutoscalingPolicy, autoscalingPolicySchema } from '@mlscale/core';
import { managedByValue, tagNames } from './resource-names.js';

/** Where each target-tracking metric lives in Azure Monitor, and how the target converts. */
const metricMap: Record<
  AutoscalingMetric,
  { metricName: string; on: 'deployment' | 'endpoint'; perInstance: boolean; factor: number }
> = {
  cpuUtilization: { metricName: 'CpuUtilizationPercentage', on: 'deployment', perInstance: false, factor: 1 },
  gpuUtilization: { metricName: 'GpuUtilizationPercentage', on: 'deployment', perInstance: false, factor: 1 },
  // Requests per second per replica: RequestsPerMinute of this deployment, divided per instance.
  requestsPerSecond: { metricName: 'RequestsPerMinute', on: 'endpoint', perInstance: true, factor: 60 },
  latencyP95: { metricName: 'RequestLatency_P95', on: 'endpoint', perInstance: false, factor: 1 },
  concurrentRequests: { metricName: 'ConnectionsActive', on: 'endpoint', perInstance: true, factor: 1 },
};

/** Azure Monitor refuses cooldowns under a minute. */
const minimumCooldownSeconds = 60;

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function seconds(duration: string | undefined): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(duration ?? '');
  if (!match) return 0;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/**
 * A target-tracking policy as an Azure Monitor autoscale setting on a deployment: one enabled profile
 * (a disabled setting silently does nothing) holding [min, max], a scale-out rule above the tolerance
 * band and a scale-in rule below it, each with its cooldown.
 */
export function autoscaleSettingFor(input: {
  policy: AutoscalingPolicy;
  endpointId: string;
  deploymentId: string;
  deploymentName: string;
  location: string;
  currentReplicas: number;
}): AutoscaleSettingResource {
  const { policy } = input;
  const mapped = metricMap[policy.target.metric];
  const metricResourceUri = mapped.on === 'deployment' ? input.deploymentId : input.endpointId;
  const target = policy.target.value * mapped.factor;
  const dimensions =
    mapped.on === 'endpoint'
      ? [{ dimensionName: 'deployment', operator: 'Equals' as const, values: [input.deploymentName] }]
      : undefined;
  const trigger = (operator: 'GreaterThan' | 'LessThan', threshold: number) => ({
    metricName: mapped.metricName,
    metricResourceUri,
    timeGrain: 'PT1M',
    statistic: 'Average' as const,
    timeWindow: 'PT5M',
    timeAggregation: 'Average' as const,
    operator,
    threshold: round(threshold),
    dividePerInstance: mapped.perInstance,
    ...(dimensions ? { dimensions } : {}),
  });
  const rule = (direction: 'Increase' | 'Decrease', cooldownSeconds: number): ScaleRule['scaleAction'] => ({
    direction,
    type: 'ChangeCount',
    value: '1',
    cooldown: `PT${Math.max(minimumCooldownSeconds, cooldownSeconds)}S`,
  });
  const defaultCapacity = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, input.currentReplicas));
  return {
    location: input.location,
    tags: {
      [tagNames.managedBy]: managedByValue,
      'mlscale-metric': policy.target.metric,
      'mlscale-scale-in-cooldown': String(policy.scaleInCooldownSeconds),
      'mlscale-scale-out-cooldown': String(policy.scaleOutCooldownSeconds),
    },
    enabled: true,
    targetResourceUri: input.deploymentId,
    profiles: [
      {
        name: 'mlscale-target-tracking',
        capacity: {
          minimum: String(policy.minReplicas),
          maximum: String(policy.maxReplicas),
          default: String(defaultCapacity),
        },
        rules: [
          {
            metricTrigger: trigger('GreaterThan', target * (1 + policy.tolerance)),
            scaleAction: rule('Increase', policy.scaleOutCooldownSeconds),
          },
          {
            metricTrigger: trigger('LessThan', target * (1 - policy.tolerance)),
            scaleAction: rule('Decrease', policy.scaleInCooldownSeconds),
          },
        ],
      },
    ],
    notifications: [],
  };
}

/** Reads a policy back from a setting mlscale wrote (or one with the same shape); undefined otherwise. */
export function policyFromSetting(setting: AutoscaleSettingResource): AutoscalingPolicy | undefined {
  if (setting.enabled === false) return undefined;
  const profile = setting.profiles[0];
  const scaleOut = profile?.rules.find((rule) => rule.scaleAction.direction === 'Increase');
  const scaleIn = profile?.rules.find((rule) => rule.scaleAction.direction === 'Decrease');
  if (!profile || !scaleOut || !scaleIn) return undefined;
  const metric =
    (setting.tags?.['mlscale-metric'] as AutoscalingMetric | undefined) ??
    (Object.entries(metricMap).find(
      ([, value]) => value.metricName === scaleOut.metricTrigger.metricName,
    )?.[0] as AutoscalingMetric | undefined);
  if (!metric || !(metric in metricMap)) return undefined;
  const out = scaleOut.metricTrigger.threshold;
  const inner = scaleIn.metricTrigger.threshold;
  const target = (out + inner) / 2;
  const parsed = autoscalingPolicySchema.safeParse({
    minReplicas: Number(profile.capacity.minimum),
    maxReplicas: Number(profile.capacity.maximum),
    target: { metric, value: round(target / metricMap[metric].factor) },
    tolerance: target > 0 ? round((out - inner) / (out + inner)) : 0,
    scaleOutCooldownSeconds: Number(
      setting.tags?.['mlscale-scale-out-cooldown'] ?? seconds(scaleOut.scaleAction.cooldown),
    ),
    scaleInCooldownSeconds: Number(
      setting.tags?.['mlscale-scale-in-cooldown'] ?? seconds(scaleIn.scaleAction.cooldown),
    ),
  });
  return parsed.success ? parsed.data : undefined;
}
