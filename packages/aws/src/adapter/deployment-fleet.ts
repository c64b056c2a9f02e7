import { type DeploymentSpec, specHash } from '@mlscale/core';
import { variantModels } from './deployment-requests.js';
import { type DeploymentResourceNames, deploymentResourceNames } from './resource-names.js';

/**
 * The hash of what an endpoint config and its models are made from: the sealed spec without what
 * changes in place (replica count, traffic weights, autoscaling), what only the update uses (rollout,
 * the extra rollback alarms) and the tags. Two specs with the same fleet hash run on the same config;
 * a spec whose fleet hash differs from the config in force needs a new config and a blue/green update.
 * Sealed secrets are part of it, so a changed secret is a new fleet, and a spec sent back with its
 * secrets sealed is the same fleet as the one running with their values.
 */
export function fleetHash(sealed: DeploymentSpec): string {
  const {
    replicas: _replicas,
    autoscaling: _autoscaling,
    rollout: _rollout,
    tags: _tags,
    traffic,
    providerOptions,
    ...fleet
  } = sealed;
  const { rollbackAlarms: _rollbackAlarms, ...aws } = (providerOptions?.aws ?? {}) as Record<string, unknown>;
  return specHash({
    ...fleet,
    ...(traffic ? { traffic: traffic.map((entry) => entry.model) } : {}),
    ...(providerOptions ? { providerOptions: { ...providerOptions, aws } } : {}),
  });
}

/** The config, models and variants a sealed spec runs on. */
export function fleetNames(sealed: DeploymentSpec): DeploymentResourceNames {
  return deploymentResourceNames(sealed.name, fleetHash(sealed), variantModels(sealed).length);
}
