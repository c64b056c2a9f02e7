import type { DeploymentState, DeploymentStatus } from '@mlscale/core';
import {
  convergenceFields,
  type DeploymentRecord,
  type ObservedDeployment,
  shortHash,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { fleetNames } from './deployment-fleet.js';
import type { DeploymentObservation } from './deployment-observation.js';
import { isRegistered, policyInForce, scalingMatches } from './endpoint-autoscaling.js';
import { capacityChanges } from './endpoint-capacity.js';

const states: Record<string, DeploymentState> = {
  Creating: 'Creating',
  Updating: 'Updating',
  SystemUpdating: 'Updating',
  RollingBack: 'RollingBack',
  InService: 'InService',
  Deleting: 'Deleting',
  Failed: 'Failed',
  UpdateRollbackFailed: 'Failed',
  OutOfService: 'Failed',
};

/** The endpoint's own state in mlscale's terms. */
export function endpointState(observation: DeploymentObservation): DeploymentState {
  return states[observation.endpoint.EndpointStatus ?? ''] ?? 'Failed';
}

/**
 * What differs between the endpoint and the record's desired spec, in words: the config it runs (the
 * models, environment and fleet), the weights and counts, and autoscaling as Application Auto Scaling
 * holds it. Empty once everything matches.
 */
export function differences(record: DeploymentRecord, observation: DeploymentObservation): string[] {
  const desired = record.desired;
  const { endpoint, scaling } = observation;
  const found: string[] = [];
  const wanted = fleetNames(desired).endpointConfig;
  if (endpoint.EndpointConfigName !== wanted) {
    found.push(
      `the endpoint runs config ${endpoint.EndpointConfigName}; spec ${shortHash(record.desiredHash)} runs on ${wanted}`,
    );
  } else if (capacityChanges(desired, endpoint)) {
    const counts = (endpoint.ProductionVariants ?? []).map((variant) => variant.DesiredInstanceCount ?? 0);
    found.push(
      desired.autoscaling || desired.serverless
        ? 'the traffic weights are not as asked'
        : `${counts.join('+')} instance(s) run, ${desired.replicas} per variant asked for, or the weights differ`,
    );
  }
  if (desired.autoscaling) {
    const policy = desired.autoscaling;
    const variants = (endpoint.ProductionVariants ?? []).map((variant) => variant.VariantName);
    const missing = variants.filter((variant) => {
      const registered = scaling.find((entry) => entry.variant === variant);
      return !registered || !scalingMatches(registered, policy);
    });
    if (missing.length > 0) found.push(`autoscaling is not registered as asked on ${missing.join(', ')}`);
  } else if (scaling.some(isRegistered)) {
    found.push('autoscaling is still registered');
  }
  return found;
}

/** The observation in `convergenceFields`' terms. */
export function observed(record: DeploymentRecord, observation: DeploymentObservation): ObservedDeployment {
  const state = endpointState(observation);
  const failure = observation.endpoint.FailureReason;
  if (state !== 'InService') {
    return {
      state,
      reason:
        state === 'Failed' && failure
          ? `${failure} Delete the deployment to remove its endpoint, endpoint config and models.`
          : undefined,
      matchesDesired: false,
    };
  }
  const found = differences(record, observation);
  return {
    state,
    matchesDesired: found.length === 0,
    ...(found.length > 0 ? { difference: found.join('; ') } : {}),
  };
}

/** Where InvokeEndpoint requests for an endpoint go. */
export async function runtimeUrl(context: AdapterContext, name: string): Promise<string> {
  const base =
    context.settings.endpoint ?? `https://runtime.sagemaker.${await context.aws.region()}.amazonaws.com`;
  return `${base.replace(/\/+$/, '')}/endpoints/${encodeURIComponent(name)}/invocations`;
}

/**
 * The deployment's status from what was read: state, reason and specs from the record through core's
 * `convergenceFields`, capacity and traffic from the endpoint, autoscaling as Application Auto Scaling
 * holds it. Only reads; no secret is in it (the record is sealed, container environments are not read).
 */
export async function statusOf(
  context: AdapterContext,
  observation: DeploymentObservation,
): Promise<DeploymentStatus> {
  const { endpoint, record, scaling } = observation;
  const fields = convergenceFields(record, observed(record, observation));
  const variants = endpoint.ProductionVariants ?? [];
  const state = endpointState(observation);
  const autoscaling = scaling
    .map((entry) => policyInForce(entry, record.desired.autoscaling))
    .find((policy) => policy !== undefined);
  const totalWeight = variants.reduce(
    (total, variant) => total + (variant.CurrentWeight ?? variant.DesiredWeight ?? 0),
    0,
  );
  return {
    name: observation.name,
    provider: 'aws',
    ...fields,
    replicas: {
      desired: variants.reduce((total, variant) => total + (variant.DesiredInstanceCount ?? 0), 0),
      ready:
        state === 'InService' || state === 'Updating'
          ? variants.reduce((total, variant) => total + (variant.CurrentInstanceCount ?? 0), 0)
          : 0,
    },
    ...(autoscaling ? { autoscaling } : {}),
    traffic: variants.map((variant) => ({
      version: variant.VariantName ?? '',
      weight:
        totalWeight > 0 ? ((variant.CurrentWeight ?? variant.DesiredWeight ?? 0) / totalWeight) * 100 : 0,
    })),
    endpoint: { url: await runtimeUrl(context, observation.name) },
    createdAt: endpoint.CreationTime ?? new Date(0),
    updatedAt: endpoint.LastModifiedTime ?? endpoint.CreationTime ?? new Date(0),
    details: {
      endpointArn: endpoint.EndpointArn,
      endpointConfigName: endpoint.EndpointConfigName,
      endpointStatus: endpoint.EndpointStatus,
      ...(endpoint.FailureReason ? { failureReason: endpoint.FailureReason } : {}),
      serverless: variants.some(
        (variant) => variant.CurrentServerlessConfig || variant.DesiredServerlessConfig,
      ),
      variants: variants.map((variant) => ({
        name: variant.VariantName,
        currentInstanceCount: variant.CurrentInstanceCount,
        desiredInstanceCount: variant.DesiredInstanceCount,
        currentWeight: variant.CurrentWeight,
        images: (variant.DeployedImages ?? []).map((image) => image.SpecifiedImage),
      })),
      ...(endpoint.LastDeploymentConfig ? { lastDeploymentConfig: endpoint.LastDeploymentConfig } : {}),
    },
  };
}
