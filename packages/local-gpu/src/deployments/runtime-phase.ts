import type { DeploymentSpec } from '@mlscale/core';
import type { DeviceSelection } from '../runtime/device-selection.js';
import type { CandidateWatch } from './candidate-watch.js';
import type { ModelVersion } from './model-version.js';
import type { RolloutOutcome } from './rollout.js';

/** A model version and the device its replicas run on. */
export interface PlacedVersion {
  readonly version: ModelVersion;
  readonly device: DeviceSelection;
  /** onnxruntime intra-op threads of each of its replicas. */
  readonly threads: number;
}

/** The spec a runtime was last handed (values, not seals) and the hash it is recorded under. */
export interface RuntimeTarget {
  readonly spec: DeploymentSpec;
  readonly hash: string;
}

/** A change the runtime did not make (a rolled-back rollout, replicas that would not start), and why. */
export interface RuntimeRefusal {
  readonly specHash: string;
  readonly reason: string;
}

/** A replica count a change asked of the serving version (the autoscaler's own decisions are not these). */
export interface ScalingRequest {
  readonly replicas: number;
}

/** How the last rollout ended, as the status's `details.lastRollout` shows it. */
export type RolloutRecord = { version: string; model: string; at: string } & RolloutOutcome;

/**
 * Where a deployment's runtime is in its life:
 *
 *   starting ──replicas-started──► serving ◄──────────── promoted / rolled-back ──┐
 *      │                            │  ▲ changed-in-place, scaled, scaling-failed │
 *      └─replicas-failed─► failed   └──┴─rollout-started──► rolling-out ──rolling-back──► rolling-back
 *   any ──closing──► closing ──closed──► closed
 */
export type RuntimePhase =
  /** The first version's replicas are starting. */
  | { readonly kind: 'starting' }
  /** The stable version takes every request; `scaling` while a change's replica count converges. */
  | { readonly kind: 'serving'; readonly scaling?: ScalingRequest }
  /** A candidate takes `weight`% of requests, at step `step` (1-based) of the rollout. */
  | {
      readonly kind: 'rolling-out';
      readonly canary: PlacedVersion;
      /** What the stable version's answers tell of the candidate (a breach rolls it back). */
      readonly watch: CandidateWatch;
      readonly weight: number;
      readonly step: number;
      /** Why an alert asked for a rollback; the rollout driver acts on it at its next look. */
      readonly rollbackRequest?: string;
    }
  /** The candidate failed its judge: it gets no traffic and drains. */
  | { readonly kind: 'rolling-back'; readonly canary: PlacedVersion; readonly reason: string }
  /** The first version's replicas did not start. */
  | { readonly kind: 'failed'; readonly reason: string }
  /** Stopping: no new connections, in-flight requests drain, replicas stop. */
  | { readonly kind: 'closing' }
  | { readonly kind: 'closed' };

/** Everything about a runtime that changes as it lives; replaced whole by each transition. */
export interface RuntimeState {
  readonly phase: RuntimePhase;
  /** The version that serves when no rollout runs (and the stable side of one that does). */
  readonly stable: PlacedVersion;
  readonly target: RuntimeTarget;
  /** Set when the change to `target` was not made; cleared by the next change. */
  readonly refusal?: RuntimeRefusal;
  readonly lastRollout?: RolloutRecord;
  readonly updatedAt: Date;
}

/** What happens to a runtime: its own progress (replicas, rollout judge) and what it is asked. */
export type RuntimeEvent =
  | { readonly type: 'replicas-started' }
  | { readonly type: 'replicas-failed'; readonly reason: string }
  | { readonly type: 'changed-in-place'; readonly target: RuntimeTarget; readonly scaling?: ScalingRequest }
  | { readonly type: 'scaled'; readonly request: ScalingRequest }
  | { readonly type: 'scaling-failed'; readonly request: ScalingRequest; readonly reason: string }
  | {
      readonly type: 'rollout-started';
      readonly target: RuntimeTarget;
      readonly canary: PlacedVersion;
      readonly watch: CandidateWatch;
    }
  | { readonly type: 'weight-changed'; readonly weight: number; readonly step: number }
  | { readonly type: 'rollback-requested'; readonly reason: string }
  | { readonly type: 'rolling-back'; readonly reason: string }
  | { readonly type: 'promoted'; readonly rollout: RolloutRecord; readonly scaling?: ScalingRequest }
  | { readonly type: 'rolled-back'; readonly reason: string; readonly rollout: RolloutRecord }
  | { readonly type: 'closing' }
  | { readonly type: 'closed' };

/**
 * The one transition function of a runtime. An event that does not apply to the current phase leaves
 * the state as it is (and is returned identical): background work may report after the phase moved on,
 * such as a scaling that finishes after a newer change, or a rollout step after close began.
 */
export function transition(state: RuntimeState, event: RuntimeEvent, now: Date = new Date()): RuntimeState {
  const { phase } = state;
  const to = (next: Partial<RuntimeState>): RuntimeState => ({ ...state, ...next, updatedAt: now });
  if (phase.kind === 'closed') return state;
  if (event.type === 'closing') return phase.kind === 'closing' ? state : to({ phase: { kind: 'closing' } });
  if (event.type === 'closed') return phase.kind === 'closing' ? to({ phase: { kind: 'closed' } }) : state;
  switch (phase.kind) {
    case 'starting':
      if (event.type === 'replicas-started') return to({ phase: { kind: 'serving' } });
      if (event.type === 'replicas-failed') return to({ phase: { kind: 'failed', reason: event.reason } });
      return state;
    case 'serving':
      switch (event.type) {
        case 'changed-in-place':
          return to({
            phase: event.scaling ? { kind: 'serving', scaling: event.scaling } : { kind: 'serving' },
            target: event.target,
            refusal: undefined,
          });
        case 'scaled':
          return phase.scaling === event.request ? to({ phase: { kind: 'serving' } }) : state;
        case 'scaling-failed':
          return phase.scaling === event.request
            ? to({
                phase: { kind: 'serving' },
                refusal: { specHash: state.target.hash, reason: event.reason },
              })
            : state;
        case 'rollout-started':
          return to({
            phase: { kind: 'rolling-out', canary: event.canary, watch: event.watch, weight: 0, step: 0 },
            target: event.target,
            refusal: undefined,
          });
        default:
          return state;
      }
    case 'rolling-out':
      switch (event.type) {
        case 'weight-changed':
          return to({ phase: { ...phase, weight: event.weight, step: event.step } });
        case 'rollback-requested':
          return phase.rollbackRequest ? state : to({ phase: { ...phase, rollbackRequest: event.reason } });
        case 'rolling-back':
          return to({ phase: { kind: 'rolling-back', canary: phase.canary, reason: event.reason } });
        case 'promoted':
          return to({
            phase: event.scaling ? { kind: 'serving', scaling: event.scaling } : { kind: 'serving' },
            stable: phase.canary,
            lastRollout: event.rollout,
          });
        case 'rolled-back':
          return rolledBack(state, event, to);
        default:
          return state;
      }
    case 'rolling-back':
      return event.type === 'rolled-back' ? rolledBack(state, event, to) : state;
    case 'failed':
    case 'closing':
      return state;
  }
}

function rolledBack(
  state: RuntimeState,
  event: Extract<RuntimeEvent, { type: 'rolled-back' }>,
  to: (next: Partial<RuntimeState>) => RuntimeState,
): RuntimeState {
  return to({
    phase: { kind: 'serving' },
    refusal: { specHash: state.target.hash, reason: event.reason },
    lastRollout: event.rollout,
  });
}

/** The versions a phase holds: the stable one, and the candidate while a rollout runs or drains. */
export function versionsOf(state: RuntimeState): PlacedVersion[] {
  const { phase } = state;
  return phase.kind === 'rolling-out' || phase.kind === 'rolling-back'
    ? [state.stable, phase.canary]
    : [state.stable];
}

/**
 * Whether the runtime runs its target completely: the stable version serves the target's model with
 * its replicas, and the change was not refused.
 */
export function runsTarget(state: RuntimeState): boolean {
  return state.phase.kind === 'serving' && !state.phase.scaling && !state.refusal;
}
