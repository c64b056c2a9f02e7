import { MlscaleError } from '@mlscale/core';
import { endpointBody } from './deployment-bodies.js';
import { describeTraffic, sameName, trafficOf } from './deployment-observation.js';
import type { AzureDeploymentOptions } from './deployment-options.js';
import { type DeploymentTarget, plannedTargets } from './deployment-targets.js';
import type { Readiness, StepContext } from './step-context.js';
import { provider } from './to-mlscale-error.js';
import { blendTraffic, errorRateSince } from './traffic-shift.js';

/** Whether two traffic maps send the same shares (names compare case-insensitively; 0 is absent). */
export function sameTraffic(
  left: Record<string, number> | undefined,
  right: Record<string, number>,
): boolean {
  const names = new Set(
    [...Object.keys(left ?? {}), ...Object.keys(right)].map((name) => name.toLowerCase()),
  );
  for (const name of names) if (trafficOf(left, name) !== trafficOf(right, name)) return false;
  return true;
}

/** The traffic map the targets ask for. */
export function wantedTraffic(
  targets: { deploymentName?: string; weight: number }[],
): Record<string, number> {
  const traffic: Record<string, number> = {};
  for (const target of targets) {
    if (target.deploymentName)
      traffic[target.deploymentName] = (traffic[target.deploymentName] ?? 0) + target.weight;
  }
  return traffic;
}

/**
 * Moves the endpoint's traffic one step toward the targets' map, by a full endpoint PUT (the only way
 * Azure changes traffic). With `rollout`, a new version gets its share in the given steps, one per
 * reconcile: the step in force is read from the traffic map itself (the map each step makes is
 * known), its observation window starts when the endpoint was last written, and once `stepSeconds` have
 * passed the new version's 5xx share (Azure Monitor) decides: over `maxErrorRate` the change is refused
 * (the record goes back to the serving spec, whose traffic the next step restores), else the next step.
 */
export async function advanceTraffic(
  step: StepContext,
  targets: DeploymentTarget[],
  options: AzureDeploymentOptions,
): Promise<Readiness> {
  const { endpoint } = step.observation;
  const final = wantedTraffic(targets);
  const current = endpoint.properties.traffic ?? {};
  if (sameTraffic(current, final)) return 'ready';
  const next = await nextTraffic(step, final, current);
  if (next === 'wait') return 'progressing';
  const { context, name, record, signal } = step;
  const body = endpointBody(
    context,
    record.desired,
    options,
    {
      location: endpoint.location,
      tags: (endpoint.tags ?? {}) as Record<string, string>,
      properties: (endpoint.properties.properties ?? {}) as Record<string, string>,
    },
    next,
  );
  const { resourceGroup, workspace } = context.settings;
  await context.start(`Routing the traffic of '${name}'`, signal, (clients, call) =>
    clients.machineLearning.onlineEndpoints.beginCreateOrUpdate(resourceGroup, workspace, name, body, call),
  );
  return 'progressing';
}

/** The map to PUT next, or `wait` while a rollout step is being observed. */
async function nextTraffic(
  step: StepContext,
  final: Record<string, number>,
  current: Record<string, number>,
): Promise<Record<string, number> | 'wait'> {
  const { record, observation, context, signal, name } = step;
  const rollout = record.desired.rollout;
  const serving =
    record.serving && record.servingHash !== record.desiredHash
      ? wantedTraffic(plannedTargets(record.serving, observation))
      : undefined;
  const total = Object.values(serving ?? {}).reduce((sum, weight) => sum + weight, 0);
  const newcomers = Object.keys(final).filter(
    (deployment) => final[deployment]! > 0 && trafficOf(serving, deployment) === 0,
  );
  if (!rollout || !serving || total !== 100 || newcomers.length === 0) return final;
  const steps = rollout.steps.filter((share) => share < 100);
  const maps = steps.map((share) => blendTraffic(serving, final, share / 100));
  const index = maps.findIndex((map) => sameTraffic(current, map));
  if (index < 0) return maps[0] ?? final;
  const since = new Date(observation.endpoint.systemData?.lastModifiedAt ?? 0).getTime();
  if (Date.now() - since < rollout.stepSeconds * 1000) return 'wait';
  const observed = await errorRateSince(context, observation.endpoint.id ?? '', newcomers, since, signal);
  if (observed.requests >= rollout.minRequests && observed.errorRate > rollout.maxErrorRate) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      retryable: false,
      message: `Update of '${name}' rolled back at ${steps[index]}% traffic: the new version's error rate was ${(observed.errorRate * 100).toFixed(1)}% over ${observed.requests} requests (limit ${(rollout.maxErrorRate * 100).toFixed(1)}%). Traffic goes back to ${describeTraffic(serving)}.`,
    });
  }
  return maps[index + 1] ?? final;
}

/** Whether a deployment is among the targets. */
export function isTarget(targets: { deploymentName?: string }[], deployment: string | undefined): boolean {
  return targets.some((target) => sameName(target.deploymentName, deployment));
}
