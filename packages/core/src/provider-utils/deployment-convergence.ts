import type { DeploymentState } from '../backend/v1/status.js';
import type { DeploymentSpec } from '../spec/deployment.js';
import { type DeploymentRecord, recordPhase, shortHash } from './deployment-record.js';

/** What the cloud has behind a deployment, in mlscale's terms, as an adapter reads it. */
export interface ObservedDeployment {
  /** The cloud's own state of the endpoint: InService when it serves and no operation runs. */
  state: DeploymentState;
  /** The cloud's reason (a failure reason, the operation in progress). */
  reason?: string | undefined;
  /**
   * Whether what runs matches the record's desired spec in everything the adapter checks (models,
   * capacity, traffic, autoscaling). Read only when `state` is InService.
   */
  matchesDesired: boolean;
  /** What differs, when it does not match ("autoscaling is not registered"). */
  difference?: string | undefined;
}

/** The fields of a `DeploymentStatus` that the record and the observation decide, the same on every backend. */
export interface ConvergenceFields {
  state: DeploymentState;
  stateReason?: string;
  /** The desired spec, sealed. */
  spec: DeploymentSpec;
  specHash: string;
  servingSpecHash?: string;
}

/**
 * A deployment's state from its record and what the cloud has: InService only once the desired spec
 * has converged and the cloud still matches it; Creating or Updating while it converges (saying which
 * spec serves and what is left); Failed when the cloud says so or a first deployment was refused.
 */
export function convergenceFields(record: DeploymentRecord, observed: ObservedDeployment): ConvergenceFields {
  const base = {
    spec: record.desired,
    specHash: record.desiredHash,
    ...(record.servingHash === undefined ? {} : { servingSpecHash: record.servingHash }),
  };
  const withReason = (state: DeploymentState, reason: string | undefined): ConvergenceFields => ({
    ...base,
    state,
    ...(reason ? { stateReason: reason } : {}),
  });
  const phase = recordPhase(record);
  if (phase === 'deleting') return withReason('Deleting', observed.reason);
  if (observed.state === 'Failed') return withReason('Failed', observed.reason ?? record.failure?.message);
  if (phase === 'creating' && record.failure) return withReason('Failed', record.failure.message);
  if (observed.state !== 'InService') return withReason(observed.state, observed.reason ?? pending(record));
  if (phase === 'creating') return withReason('Creating', observed.difference ?? pending(record));
  if (phase === 'converging') {
    return withReason(
      'Updating',
      `${pending(record)}${observed.difference ? `: ${observed.difference}` : ''}`,
    );
  }
  if (!observed.matchesDesired) {
    return withReason(
      'Updating',
      `the cloud no longer matches spec ${shortHash(record.desiredHash)} (${observed.difference ?? 'it changed outside mlscale'}); reconciling restores it`,
    );
  }
  return withReason('InService', record.failure?.message);
}

/** Which spec serves and which is on its way, in words. */
function pending(record: DeploymentRecord): string {
  return record.servingHash === undefined
    ? `spec ${shortHash(record.desiredHash)} is being created`
    : `spec ${shortHash(record.servingHash)} serves; spec ${shortHash(record.desiredHash)} is rolling out`;
}
