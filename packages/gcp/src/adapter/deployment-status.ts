import type { DeploymentSpec, DeploymentStatus } from '@mlscale/core';
import { convergenceFields } from '@mlscale/core/provider-utils';
import { type AdapterContext, toDate } from './context.js';
import { observedDeployment, type VertexObservation } from './deployment-observation.js';
import { replicaBounds } from './deployment-requests.js';
import { autoscalingInForce, sameResources, targetsOf } from './deployment-targets.js';
import { provider } from './errors.js';
import { positiveSplit } from './traffic-split.js';

/**
 * A deployment's status from one observation: state, reason and spec hashes from the record and what
 * runs (core's `convergenceFields`), capacity and traffic as Vertex reports them. The spec is the
 * record's, sealed; nothing here holds a secret.
 */
export function deploymentStatus(context: AdapterContext, observation: VertexObservation): DeploymentStatus {
  const { settings } = context;
  const { endpoint, record } = observation;
  const desired = record.desired;
  const targets = targetsOf(context, desired);
  const observed = observedDeployment(observation, targets);
  const fields = convergenceFields(record, {
    ...observed,
    ...(observation.progress?.cleanupRefused && observed.difference
      ? {
          difference: `${observed.difference} (removing it was refused: ${observation.progress.cleanupRefused}; retrying)`,
        }
      : {}),
  });
  const deployedModels = endpoint.deployedModels ?? [];
  const split = positiveSplit(endpoint.trafficSplit);
  const serving = deployedModels.filter(
    (deployed) => (split[deployed.id!] ?? 0) > 0 || Object.keys(split).length === 0,
  );
  const primary = [...serving].sort((a, b) => (split[b.id!] ?? 0) - (split[a.id!] ?? 0))[0];
  const ready = serving.reduce(
    (sum, deployed) => sum + Number(deployed.dedicatedResources?.minReplicaCount ?? 0),
    0,
  );
  const desiredPerModel = desired.autoscaling
    ? replicaBounds(desired.replicas, desired.autoscaling).min
    : desired.replicas;
  const apiHost = settings.apiEndpoint ?? `${settings.location}-aiplatform.googleapis.com`;
  const created = toDate(endpoint.createTime) ?? new Date();
  const policy =
    primary && autoscalingInForce(primary) ? policyServing(context, observation, primary) : undefined;
  return {
    name: desired.name,
    provider,
    ...fields,
    replicas: { desired: desiredPerModel * Math.max(1, targets.length), ready },
    ...(policy ? { autoscaling: policy } : {}),
    traffic: deployedModels.map((deployed) => ({
      version: deployed.displayName ?? deployed.id!,
      weight: split[deployed.id!] ?? 0,
    })),
    endpoint: {
      url: `https://${apiHost}${settings.port ? `:${settings.port}` : ''}/v1/${endpoint.name}:predict`,
    },
    ...(desired.instance?.accelerator
      ? {
          device: {
            requested: desired.instance.accelerator.type,
            used: String(
              primary?.dedicatedResources?.machineSpec?.acceleratorType ?? desired.instance.accelerator.type,
            ),
          },
        }
      : {}),
    createdAt: created,
    updatedAt: toDate(endpoint.updateTime) ?? created,
    details: {
      endpoint: endpoint.name,
      deployedModels: deployedModels.map((deployed) => ({
        id: deployed.id,
        model: deployed.model,
        modelVersionId: deployed.modelVersionId,
        displayName: deployed.displayName,
      })),
      models: observation.models.map((model) => model.name),
    },
  };
}

/** The autoscaling policy of the spec (desired, else serving) whose capacity the serving model runs. */
function policyServing(
  context: AdapterContext,
  observation: VertexObservation,
  primary: NonNullable<VertexObservation['endpoint']['deployedModels']>[number],
): DeploymentSpec['autoscaling'] {
  const { record } = observation;
  for (const spec of [record.desired, record.serving]) {
    if (!spec?.autoscaling) continue;
    const target = targetsOf(context, spec)[0];
    if (target && sameResources(primary, target.resources)) return spec.autoscaling;
  }
  return undefined;
}
