import { type DeploymentStatus, secretHashKey } from '@mlscale/core';
import {
  convergenceFields,
  type DeploymentRecord,
  type ObservedDeployment,
  recordPhase,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { settingHolds } from './autoscale-reconciliation.js';
import { policyFromSetting } from './autoscale-settings.js';
import { deploymentBody, initialCapacity } from './deployment-bodies.js';
import { configDifference } from './deployment-config.js';
import {
  type DeploymentObservation,
  deploymentNamed,
  primaryDeployment,
  provisioningStateOf,
  settingOf,
  trafficOf,
} from './deployment-observation.js';
import { deploymentOptions } from './deployment-options.js';
import { knownTarget, plannedTargets } from './deployment-targets.js';
import { describeModel } from './resource-names.js';
import { provider } from './to-mlscale-error.js';
import { sameTraffic, wantedTraffic } from './traffic-rollout.js';

const busyStates = new Set(['Creating', 'Updating', 'Scaling']);

/**
 * What Azure has against what the record asks for: the endpoint's own state, operations in progress,
 * and every way the target deployments (models, container settings, instance counts, autoscaling,
 * traffic) differ from the desired spec. Deployments outside the traffic map are upkeep, not a
 * difference. Only reads what the observation holds.
 */
export function observedDeployment(
  context: AdapterContext,
  record: DeploymentRecord,
  observation: DeploymentObservation,
): ObservedDeployment {
  const { endpoint } = observation;
  const name = endpoint.name ?? record.desired.name;
  const endpointState = provisioningStateOf(endpoint);
  if (endpointState === 'Deleting') return { state: 'Deleting', matchesDesired: false };
  if (endpointState === 'Failed')
    return { state: 'Failed', reason: `endpoint '${name}' failed to provision`, matchesDesired: false };
  const creating = recordPhase(record) === 'creating';
  if (endpointState !== 'Succeeded') {
    return {
      state: creating ? 'Creating' : 'Updating',
      reason: `endpoint '${name}' is ${endpointState}`,
      matchesDesired: false,
    };
  }
  const desired = record.desired;
  let options: ReturnType<typeof deploymentOptions>;
  try {
    options = deploymentOptions(desired);
  } catch {
    options = {};
  }
  const secretKey = secretHashKey(name);
  const differences: string[] = [];
  const busy: string[] = [];
  const planned = plannedTargets(desired, observation);
  for (const target of planned) {
    const deployment = target.deploymentName
      ? deploymentNamed(observation, target.deploymentName)
      : undefined;
    const label = `the deployment of ${describeModel(target.model)}`;
    if (!deployment) {
      differences.push(`${label} is not created yet`);
      continue;
    }
    const state = provisioningStateOf(deployment);
    if (busyStates.has(state)) {
      busy.push(`deployment '${deployment.name}' is ${state}`);
      continue;
    }
    if (state !== 'Succeeded') {
      differences.push(`deployment '${deployment.name}' is ${state}`);
      continue;
    }
    const known = knownTarget(context, target, observation);
    const difference = known
      ? configDifference(
          deployment,
          deploymentBody(context, desired, options, known, endpoint.location, initialCapacity(desired)),
          secretKey,
        )
      : undefined;
    if (difference) differences.push(`deployment '${deployment.name}': ${difference}`);
    const setting = settingOf(observation, deployment);
    if (desired.autoscaling && !settingHolds(setting, desired.autoscaling))
      differences.push(`deployment '${deployment.name}' is not autoscaled as asked`);
    if (!desired.autoscaling && setting)
      differences.push(`deployment '${deployment.name}' is still autoscaled`);
    if (!desired.autoscaling && deployment.sku?.capacity !== initialCapacity(desired))
      differences.push(
        `deployment '${deployment.name}' runs ${deployment.sku?.capacity ?? 1} instances, ${initialCapacity(desired)} asked for`,
      );
  }
  const wanted = wantedTraffic(planned);
  if (differences.length === 0 && !sameTraffic(endpoint.properties.traffic, wanted)) {
    differences.push('traffic is not routed as asked yet');
  }
  if (busy.length > 0) {
    return { state: creating ? 'Creating' : 'Updating', reason: busy.join('; '), matchesDesired: false };
  }
  return {
    state: 'InService',
    matchesDesired: differences.length === 0,
    ...(differences.length > 0 ? { difference: differences.join('; ') } : {}),
  };
}

/** A deployment's status: the record's spec and convergence, and what Azure reports of the endpoint. */
export function statusOf(
  context: AdapterContext,
  record: DeploymentRecord,
  observation: DeploymentObservation,
): DeploymentStatus {
  const { endpoint, deployments } = observation;
  const fields = convergenceFields(record, observedDeployment(context, record, observation));
  const traffic = endpoint.properties.traffic ?? {};
  const live = deployments.filter((deployment) => trafficOf(traffic, deployment.name ?? '') > 0);
  const capacityOf = (items: typeof deployments) =>
    items.reduce((sum, deployment) => sum + (deployment.sku?.capacity ?? 1), 0);
  const desired = record.desired;
  const ready = capacityOf(live.filter((deployment) => provisioningStateOf(deployment) === 'Succeeded'));
  const primary = primaryDeployment(observation);
  const setting = primary ? settingOf(observation, primary) : undefined;
  const autoscaling = setting ? policyFromSetting(setting) : undefined;
  const created = endpoint.systemData?.createdAt ?? new Date(0);
  const updated = endpoint.systemData?.lastModifiedAt ?? created;
  return {
    name: endpoint.name ?? desired.name,
    provider,
    ...fields,
    replicas: {
      desired: desired.autoscaling
        ? Math.max(desired.autoscaling.minReplicas, capacityOf(live))
        : initialCapacity(desired),
      ready,
    },
    ...(autoscaling ? { autoscaling } : {}),
    traffic: Object.entries(traffic)
      .filter(([, weight]) => weight > 0)
      .map(([version, weight]) => ({ version, weight }))
      .sort((left, right) => right.weight - left.weight || left.version.localeCompare(right.version)),
    ...(endpoint.properties.scoringUri ? { endpoint: { url: endpoint.properties.scoringUri } } : {}),
    createdAt: new Date(created),
    updatedAt: new Date(updated),
    details: {
      endpointId: endpoint.id,
      endpointState: provisioningStateOf(endpoint),
      authMode: endpoint.properties.authMode,
      publicNetworkAccess: endpoint.properties.publicNetworkAccess,
      deployments: deployments.map((deployment) => ({
        name: deployment.name,
        provisioningState: provisioningStateOf(deployment),
        instanceType: deployment.properties.instanceType,
        instances: deployment.sku?.capacity,
        model: deployment.properties.model,
      })),
    },
  };
}
