import type { AutoscaleSettingResource } from '@azure/arm-monitor';
import type { AutoscalingPolicy } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { autoscaleSettingFor, policyFromSetting } from './autoscale-settings.js';
import { deploymentNamed, settingOf } from './deployment-observation.js';
import type { DeploymentTarget } from './deployment-targets.js';
import { autoscaleSettingName } from './resource-names.js';
import type { StepContext } from './step-context.js';

/** Whether a setting holds `policy` in everything a setting can hold (bounds, target, band, cooldowns). */
export function settingHolds(
  setting: AutoscaleSettingResource | undefined,
  policy: AutoscalingPolicy,
): boolean {
  const held = setting ? policyFromSetting(setting) : undefined;
  if (!held) return false;
  return (
    held.minReplicas === policy.minReplicas &&
    held.maxReplicas === policy.maxReplicas &&
    held.target.metric === policy.target.metric &&
    held.target.value === policy.target.value &&
    held.tolerance === policy.tolerance &&
    held.scaleInCooldownSeconds === policy.scaleInCooldownSeconds &&
    held.scaleOutCooldownSeconds === policy.scaleOutCooldownSeconds
  );
}

/**
 * Puts the desired autoscaling on every target deployment (an enabled Azure Monitor setting each), or
 * removes the settings from them when the spec has none. It runs once the targets are provisioned and
 * before traffic moves: a new deployment's setting is a new resource beside the serving one's, so
 * whatever serves is autoscaled at every point of a rollout. Settings are written synchronously.
 */
export async function reconcileTargetAutoscaling(
  step: StepContext,
  targets: DeploymentTarget[],
): Promise<void> {
  const { context, name, record, observation, signal } = step;
  const policy = record.desired.autoscaling;
  for (const target of targets) {
    const deployment = deploymentNamed(observation, target.deploymentName);
    if (!deployment) continue;
    const setting = settingOf(observation, deployment);
    if (!policy) {
      if (setting?.name) await deleteAutoscaleSetting(context, setting.name, signal);
      continue;
    }
    if (settingHolds(setting, policy)) continue;
    const body = autoscaleSettingFor({
      policy,
      endpointId: observation.endpoint.id ?? '',
      deploymentId: deployment.id ?? `${observation.endpoint.id}/deployments/${target.deploymentName}`,
      deploymentName: target.deploymentName,
      location: observation.endpoint.location,
      currentReplicas: deployment.sku?.capacity ?? policy.minReplicas,
    });
    const settingName = setting?.name ?? autoscaleSettingName(name, target.deploymentName);
    await context.call(
      `Writing the autoscale setting of '${name}/${target.deploymentName}'`,
      (clients) =>
        clients.monitor.autoscaleSettings.createOrUpdate(context.settings.resourceGroup, settingName, body, {
          abortSignal: signal,
        }),
      signal,
    );
  }
}

/** Deletes one autoscale setting; one already gone is fine. */
export async function deleteAutoscaleSetting(
  context: AdapterContext,
  settingName: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  await context.find(
    `Removing the autoscale setting '${settingName}'`,
    (clients) =>
      clients.monitor.autoscaleSettings.delete(context.settings.resourceGroup, settingName, {
        abortSignal: signal,
      }),
    signal,
  );
}
