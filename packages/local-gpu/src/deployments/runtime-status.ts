import type { AutoscalingPolicy, DeploymentState, DeploymentStatus } from '@mlscale/core';
import type { ScalingRecord } from './autoscaler.js';
import { recordedSpec } from './local-secrets.js';
import {
  type RuntimePhase,
  type RuntimeRefusal,
  type RuntimeState,
  runsTarget,
  versionsOf,
} from './runtime-phase.js';

/** A runtime in mlscale's terms, for reconcile to compare with the record. */
export interface RuntimeObservation {
  phase: RuntimePhase['kind'];
  state: DeploymentState;
  reason?: string;
  /** The recorded hash of the spec last handed to the runtime. */
  targetHash: string;
  /** Whether it runs that spec completely (its model, with its replicas, not refused). */
  runsTarget: boolean;
  refusal?: RuntimeRefusal;
}

/** The phase as a deployment state and the reason shown with it. */
export function observeRuntime(state: RuntimeState): RuntimeObservation {
  const { phase, stable, refusal } = state;
  const base = {
    phase: phase.kind,
    targetHash: state.target.hash,
    runsTarget: runsTarget(state),
    ...(refusal ? { refusal } : {}),
  };
  switch (phase.kind) {
    case 'starting':
      return {
        ...base,
        state: 'Creating',
        reason: `starting ${stable.version.desiredReplicas} replicas of version ${stable.version.label}`,
      };
    case 'serving':
      if (phase.scaling)
        return { ...base, state: 'Updating', reason: `scaling to ${phase.scaling.replicas} replicas` };
      return { ...base, state: 'InService', ...(refusal ? { reason: refusal.reason } : {}) };
    case 'rolling-out':
      return {
        ...base,
        state: 'Updating',
        reason: `rolling out version ${phase.canary.version.label} (${phase.weight}% of traffic)`,
      };
    case 'rolling-back':
      return { ...base, state: 'RollingBack', reason: phase.reason };
    case 'failed':
      return { ...base, state: 'Failed', reason: phase.reason };
    case 'closing':
    case 'closed':
      return { ...base, state: 'Deleting', reason: 'the server is draining and stopping' };
  }
}

/** What a runtime's status shows beside its state. */
export interface RuntimeStatusSources {
  name: string;
  url: string;
  /** The gRPC server's `host:port`, when one serves. */
  grpcUrl?: string | undefined;
  createdAt: Date;
  /** The policy the autoscaler runs, if any. */
  autoscaling: AutoscalingPolicy | null;
  lastScaling: ScalingRecord | undefined;
}

/**
 * The runtime's own status: what runs in this process, without the record (the backend's status puts
 * the record's spec and convergence over it). Specs are shown sealed: the token and the TLS key never
 * leave in a status.
 */
export function runtimeStatus(state: RuntimeState, sources: RuntimeStatusSources): DeploymentStatus {
  const observed = observeRuntime(state);
  const { phase, stable } = state;
  const canary = phase.kind === 'rolling-out' || phase.kind === 'rolling-back' ? phase.canary : undefined;
  const weight = phase.kind === 'rolling-out' ? phase.weight : 0;
  const traffic = canary
    ? [
        { version: stable.version.label, weight: 100 - weight },
        { version: canary.version.label, weight },
      ]
    : [{ version: stable.version.label, weight: 100 }];
  return {
    name: sources.name,
    provider: 'local',
    state: observed.state,
    ...(observed.reason ? { stateReason: observed.reason } : {}),
    replicas: { desired: stable.version.desiredReplicas, ready: stable.version.readyReplicas },
    ...(sources.autoscaling ? { autoscaling: sources.autoscaling } : {}),
    traffic,
    endpoint: { url: sources.url },
    device: {
      requested: stable.device.requested,
      used: stable.device.used,
      ...(stable.device.reason ? { reason: stable.device.reason } : {}),
    },
    spec: recordedSpec(state.target.spec),
    specHash: state.target.hash,
    ...(observed.runsTarget ? { servingSpecHash: state.target.hash } : {}),
    createdAt: sources.createdAt,
    updatedAt: state.updatedAt,
    details: {
      versions: versionsOf(state).map(({ version }) => ({
        version: version.label,
        model: version.model.path,
        replicas: { desired: version.desiredReplicas, ready: version.readyReplicas },
        pendingRequests: version.batcher.pending,
      })),
      inputs: stable.version.model.signature.inputs,
      outputs: stable.version.model.signature.outputs,
      batchable: stable.version.model.signature.batchable,
      ...(sources.grpcUrl ? { grpc: { url: sources.grpcUrl } } : {}),
      // GPU figures come from nvidia-smi on /metrics (nv_gpu_*) when serving on CUDA; never invented.
      gpuMetrics: stable.device.used === 'cuda' ? 'nv_gpu_* on /metrics' : 'absent: serving on CPU',
      ...(sources.lastScaling ? { lastScaling: sources.lastScaling } : {}),
      ...(state.lastRollout ? { lastRollout: state.lastRollout } : {}),
    },
  };
}
