import type { DeploymentSpec, DeploymentStatus } from '@mlscale/core';
import {
  convergenceFields,
  type DeploymentRecord,
  type ObservedDeployment,
  recordPhase,
  shortHash,
} from '@mlscale/core/provider-utils';
import type { StoredDeployment } from './deployment-record-store.js';
import type { DeploymentRuntime } from './deployment-runtime.js';
import type { RuntimeObservation } from './runtime-status.js';
import type { ServerWhereabouts, ServingProcess } from './serving-process.js';

/** Where a recorded deployment's server is: in this backend, or as `locateServer` found it. */
export type DeploymentWhereabouts = { kind: 'here'; runtime: DeploymentRuntime } | ServerWhereabouts;

/**
 * A deployment's status from its record (the spec asked for, the one that serves, the last refusal) and
 * what serves it: this backend's runtime (its replicas, traffic, device and phase), or, when another
 * process serves it or none does, what the record says of that process, so a stale record never reads
 * as serving.
 */
export function deploymentStatus(
  name: string,
  stored: StoredDeployment,
  where: DeploymentWhereabouts,
  recordPath: string,
): DeploymentStatus {
  const { record } = stored;
  if (where.kind === 'here') {
    const own = where.runtime.status();
    const {
      state: _state,
      stateReason: _reason,
      spec: _spec,
      specHash: _hash,
      servingSpecHash: _serving,
      ...serving
    } = own;
    return {
      ...serving,
      ...convergenceFields(record, observedRuntime(record, where.runtime.observe())),
      createdAt: stored.createdAt,
      updatedAt: new Date(Math.max(own.updatedAt.getTime(), record.requestedAt.getTime())),
      details: { ...own.details, record: recordPath, process: processDetails(where.runtime.url) },
    };
  }
  const entry = where.kind === 'never-started' ? undefined : where.process;
  const autoscaling = where.kind === 'elsewhere' ? record.serving?.autoscaling : undefined;
  return {
    name,
    provider: 'local',
    ...convergenceFields(record, observedAway(record, where)),
    replicas: { desired: desiredReplicas(record.desired), ready: 0 },
    ...(autoscaling ? { autoscaling } : {}),
    traffic: [],
    ...(where.kind === 'elsewhere' ? { endpoint: { url: where.process.url } } : {}),
    createdAt: stored.createdAt,
    updatedAt: record.requestedAt,
    details: { record: recordPath, ...(entry ? { process: recordedProcess(entry) } : {}) },
  };
}

/** The runtime here, against the record: it matches when it runs the desired spec completely. */
function observedRuntime(record: DeploymentRecord, seen: RuntimeObservation): ObservedDeployment {
  if (seen.state !== 'InService') return { state: seen.state, reason: seen.reason, matchesDesired: false };
  const runsDesired = seen.targetHash === record.desiredHash;
  const difference = !runsDesired
    ? `the server runs spec ${shortHash(seen.targetHash)}; reconcile hands it spec ${shortHash(record.desiredHash)}`
    : seen.refusal?.reason;
  return {
    state: 'InService',
    matchesDesired: runsDesired && seen.runsTarget,
    ...(difference ? { difference } : {}),
  };
}

/** A deployment this backend does not serve: served by another process, or by none (said so). */
function observedAway(record: DeploymentRecord, where: ServerWhereabouts): ObservedDeployment {
  if (where.kind === 'elsewhere') {
    return {
      state: 'InService',
      matchesDesired: recordPhase(record) === 'converged',
      difference: `process ${where.process.pid} serves it at ${where.process.url} and converges it; this process does not`,
    };
  }
  if (where.kind === 'not-running') return { state: 'Creating', reason: where.reason, matchesDesired: false };
  return { state: 'Creating', matchesDesired: false };
}

function desiredReplicas(spec: DeploymentSpec): number {
  return spec.autoscaling ? Math.max(spec.replicas, spec.autoscaling.minReplicas) : spec.replicas;
}

function processDetails(url: string) {
  return { pid: process.pid, url };
}

function recordedProcess(entry: ServingProcess) {
  return {
    pid: entry.pid,
    url: entry.url,
    startedAt: entry.startedAt.toISOString(),
    ...(entry.stoppedAt ? { stoppedAt: entry.stoppedAt.toISOString() } : {}),
  };
}
