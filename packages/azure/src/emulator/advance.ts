import type { EmulatorContext } from './emulator-context.js';
import { durationMs, metricPoints } from './metric-series.js';
import { findSubject } from './monitor-routes.js';
import type { ArmResource, DeploymentRecord, EndpointRecord } from './state.js';

function settle(record: EndpointRecord | DeploymentRecord, now: number): void {
  const pending = record.pending;
  if (!pending || pending.settleAt > now) return;
  record.pending = undefined;
  record.resource.properties.provisioningState = pending.to;
  if ('error' in record && pending.error) record.error = pending.error;
}

/**
 * Moves every resource along its state machine to where it is at `now`: provisioning settles, deletions
 * complete, and enabled autoscale settings act. Run before each request, so no timer outlives the server.
 */
export function advance(context: EmulatorContext): void {
  const now = context.now();
  for (const workspace of context.state.workspaces.values()) {
    for (const [endpointKey, endpoint] of workspace.endpoints) {
      if (endpoint.deletingAt !== undefined && endpoint.deletingAt <= now) {
        workspace.endpoints.delete(endpointKey);
        continue;
      }
      settle(endpoint, now);
      for (const [deploymentKey, deployment] of endpoint.deployments) {
        if (deployment.deletingAt !== undefined && deployment.deletingAt <= now) {
          endpoint.deployments.delete(deploymentKey);
          continue;
        }
        settle(deployment, now);
      }
    }
  }
  for (const setting of context.state.autoscaleSettings.values()) applyAutoscale(context, setting, now);
}

const operators: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThan: (value, threshold) => value > threshold,
  GreaterThanOrEqual: (value, threshold) => value >= threshold,
  LessThan: (value, threshold) => value < threshold,
  LessThanOrEqual: (value, threshold) => value <= threshold,
  Equals: (value, threshold) => value === threshold,
  NotEquals: (value, threshold) => value !== threshold,
};

interface Rule {
  metricTrigger: {
    metricName: string;
    metricResourceUri?: string;
    timeGrain: string;
    timeWindow: string;
    timeAggregation?: string;
    operator: string;
    threshold: number;
    dimensions?: { DimensionName: string; Operator: string; Values: string[] }[];
  };
  scaleAction: { direction: 'Increase' | 'Decrease'; type?: string; value?: string; cooldown: string };
}

/**
 * Azure Monitor autoscale, as it behaves: nothing happens unless the setting is enabled; capacity is
 * held within the first profile's bounds; a scale-out rule that fires wins over scale-in rules, and each
 * direction waits out its cooldown.
 */
function applyAutoscale(context: EmulatorContext, setting: ArmResource, now: number): void {
  const properties = setting.properties as {
    enabled?: boolean;
    targetResourceUri?: string;
    profiles?: { capacity: { minimum: string; maximum: string; default: string }; rules: Rule[] }[];
  };
  if (properties.enabled !== true) return;
  const subject = findSubject(context, properties.targetResourceUri ?? '');
  const profile = properties.profiles?.[0];
  if (subject?.kind !== 'deployment' || !profile) return;
  const deployment = subject.deployment;
  if (deployment.resource.properties.provisioningState !== 'Succeeded') return;
  const minimum = Number(profile.capacity.minimum);
  const maximum = Number(profile.capacity.maximum);
  const current = deployment.resource.sku?.capacity ?? 1;
  let wanted = Math.min(maximum, Math.max(minimum, current));
  if (wanted === current) {
    const firing = profile.rules.filter((rule) => ruleFires(context, rule, deployment.resource.id, now));
    const scaleOut = firing.find((rule) => rule.scaleAction.direction === 'Increase');
    const rule = scaleOut ?? firing.find((item) => item.scaleAction.direction === 'Decrease');
    if (rule) {
      const cooldownMs = durationMs(rule.scaleAction.cooldown);
      if (deployment.lastScaleAt === undefined || now - deployment.lastScaleAt >= cooldownMs) {
        const step = Number(rule.scaleAction.value ?? '1');
        wanted = Math.min(maximum, Math.max(minimum, current + (rule === scaleOut ? step : -step)));
      }
    }
  }
  if (wanted === current) return;
  deployment.resource.sku = { ...(deployment.resource.sku ?? { name: 'Default' }), capacity: wanted };
  deployment.lastScaleAt = now;
  deployment.inferenceServerLog.push(
    `${new Date(now).toISOString()} Autoscale setting ${setting.name} changed capacity from ${current} to ${wanted}`,
  );
}

function ruleFires(context: EmulatorContext, rule: Rule, deploymentId: string, now: number): boolean {
  const trigger = rule.metricTrigger;
  const subject = findSubject(context, trigger.metricResourceUri ?? deploymentId);
  if (!subject) return false;
  const grainMs = durationMs(trigger.timeGrain);
  const windowMs = durationMs(trigger.timeWindow);
  const dimensions: Record<string, string> = {};
  for (const dimension of trigger.dimensions ?? []) {
    const value = dimension.Values[0];
    if (value !== undefined) dimensions[dimension.DimensionName.toLowerCase()] = value;
  }
  let points: ReturnType<typeof metricPoints>;
  try {
    points = metricPoints(context, trigger.metricName, subject, now - windowMs, now, grainMs, dimensions);
  } catch {
    return false;
  }
  const values = points.map((point) => point.average).filter((value): value is number => value !== undefined);
  if (values.length === 0) return false;
  const aggregation = (trigger.timeAggregation ?? 'Average').toLowerCase();
  const value =
    aggregation === 'maximum'
      ? Math.max(...values)
      : aggregation === 'minimum'
        ? Math.min(...values)
        : aggregation === 'total'
          ? values.reduce((sum, item) => sum + item, 0)
          : values.reduce((sum, item) => sum + item, 0) / values.length;
  return operators[trigger.operator]?.(value, trigger.threshold) ?? false;
}
