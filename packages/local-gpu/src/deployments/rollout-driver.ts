import type { Rollout } from '@mlscale/core';
import { type RolloutOutcome, runRollout } from './rollout.js';
import type { PlacedVersion, RolloutRecord, RuntimeEvent, RuntimeState } from './runtime-phase.js';

/** What a rollout needs of its runtime: the state to read and the one way to change it. */
export interface RolloutDriverContext {
  name: string;
  state(): RuntimeState;
  dispatch(event: RuntimeEvent): void;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** How a rollout goes: its steps, and the candidate's replica counts. */
export interface RolloutPlan {
  rollout: Rollout;
  /** Replicas the candidate starts with (at least one, so it can take its share). */
  replicas: number;
  /** Replicas it serves with once promoted, when the spec fixes another count (0). */
  servingReplicas?: number | undefined;
}

/**
 * A rollout's life after `rollout-started`: the candidate's replicas start, traffic moves through the
 * steps under the judge (`runRollout`), and then the candidate is promoted (the previous version drains)
 * or rolled back (the candidate gets no more traffic, drains, and the runtime serves on with the
 * refusal). A close during the rollout ends it: the close drains both versions.
 */
export async function driveRollout(
  context: RolloutDriverContext,
  candidate: PlacedVersion,
  plan: RolloutPlan,
): Promise<void> {
  const { rollout } = plan;
  const { dispatch } = context;
  const label = candidate.version.label;
  const closing = () => {
    const kind = context.state().phase.kind;
    return kind === 'closing' || kind === 'closed';
  };
  let outcome: RolloutOutcome;
  try {
    outcome = await runRollout({
      candidate: candidate.version,
      replicas: plan.replicas,
      rollout,
      setWeight: (weight) =>
        dispatch({ type: 'weight-changed', weight, step: rollout.steps.indexOf(weight) + 1 }),
      onRollingBack: (reason) => dispatch({ type: 'rolling-back', reason }),
      cancelled: closing,
      rollbackRequested: () => {
        const { phase } = context.state();
        return phase.kind === 'rolling-out' ? (phase.rollbackRequest ?? phase.watch.breach) : undefined;
      },
      failureDetail: () => {
        const { phase } = context.state();
        return phase.kind === 'rolling-out' ? phase.watch.regressionSummary() : undefined;
      },
    });
  } catch (error) {
    const { phase } = context.state();
    outcome = {
      result: 'rolledBack',
      reason: `rollout failed: ${error instanceof Error ? error.message : String(error)}`,
      step: phase.kind === 'rolling-out' ? phase.weight : 0,
    };
  }
  const record: RolloutRecord = {
    version: label,
    model: candidate.version.model.path,
    ...outcome,
    at: new Date().toISOString(),
  };
  if (closing()) return;
  if (outcome.result === 'promoted') {
    const previous = context.state().stable;
    const { servingReplicas } = plan;
    const scaling =
      servingReplicas === undefined || servingReplicas === plan.replicas
        ? undefined
        : { replicas: servingReplicas };
    dispatch({ type: 'promoted', rollout: record, ...(scaling ? { scaling } : {}) });
    context.log(`deployment ${context.name}: version ${label} promoted`);
    if (scaling) {
      candidate.version.setReplicas(scaling.replicas).then(
        () => dispatch({ type: 'scaled', request: scaling }),
        (error: unknown) =>
          dispatch({
            type: 'scaling-failed',
            request: scaling,
            reason: `scaling to ${scaling.replicas} replicas failed: ${error instanceof Error ? error.message : String(error)}`,
          }),
      );
    }
    await previous.version.close();
    return;
  }
  if (context.state().phase.kind === 'rolling-out')
    dispatch({ type: 'rolling-back', reason: outcome.reason });
  context.log(`deployment ${context.name}: version ${label} rolled back`, { reason: outcome.reason });
  await candidate.version.close();
  dispatch({
    type: 'rolled-back',
    reason: `rolled back version ${label}: ${outcome.reason}`,
    rollout: record,
  });
}
