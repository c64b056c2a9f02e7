import {
  type DeploymentSpec,
  type DeploymentStatus,
  deploymentSpecSchema,
  MlscaleError,
} from '@mlscale/core';
import { requestSpec } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import type { DamagedDeployment } from './deployment-observation.js';
import { statusOf } from './deployment-status.js';

/**
 * The model a damaged deployment's status shows: its spec is unknown (the record was its only copy).
 * A spec built on it (a partial `update` merged onto the status) is refused rather than deployed.
 */
export const unknownModelUri = 'unknown:the-deployment-record-is-damaged';

/**
 * Stands in for the unknown spec of a damaged deployment: in its status, and in the record that asks
 * for its deletion. Only what the endpoint itself says (its name, its instance count).
 */
export function unknownSpec(damaged: DamagedDeployment): DeploymentSpec {
  const instances = (damaged.endpoint.ProductionVariants ?? []).reduce(
    (total, variant) => total + (variant.DesiredInstanceCount ?? 0),
    0,
  );
  return deploymentSpecSchema.parse({
    name: damaged.name,
    model: { uri: unknownModelUri },
    replicas: Math.max(1, instances),
  });
}

/** Refuses a spec built on a damaged deployment's placeholder (see `unknownModelUri`). */
export function refuseUnknownSpec(spec: DeploymentSpec): void {
  const models = [spec.model, ...(spec.traffic ?? []).map((entry) => entry.model)];
  if (!models.some((model) => 'uri' in model && model.uri === unknownModelUri)) return;
  throw new MlscaleError({
    code: 'InvalidSpec',
    provider: 'aws',
    message: `Deployment '${spec.name}': its record is damaged, so there is no recorded spec to change; deploy it, or update it with the whole spec (update with replace: true, or mlscale apply).`,
    issues: [{ path: 'model.uri', message: 'the recorded spec is unknown: give the whole spec' }],
  });
}

/**
 * A damaged deployment's status: Failed (Deleting while SageMaker deletes the endpoint), saying what
 * is wrong and what rewrites the record, with the endpoint's own capacity, traffic and details.
 */
export async function damagedStatus(
  context: AdapterContext,
  damaged: DamagedDeployment,
): Promise<DeploymentStatus> {
  const placeholder = requestSpec(undefined, unknownSpec(damaged));
  const status = await statusOf(context, { ...damaged, record: placeholder, scaling: [], changed: false });
  const { servingSpecHash: _unknown, ...rest } = status;
  return {
    ...rest,
    state: damaged.endpoint.EndpointStatus === 'Deleting' ? 'Deleting' : 'Failed',
    stateReason: `The deployment record in the tags of SageMaker endpoint '${damaged.name}' is damaged (${damaged.reason}), so mlscale cannot tell which spec it serves; the endpoint itself is untouched. Deploy it, or update it with the whole spec (update with replace: true, or mlscale apply), to rewrite the record; or delete it.`,
  };
}
