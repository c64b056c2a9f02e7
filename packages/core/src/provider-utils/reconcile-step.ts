import type { DeploymentStatus } from '../backend/v1/status.js';
import { MlscaleError, toMlscaleError } from '../errors.js';
import { redactText } from '../redact.js';
import {
  abandonRequest,
  type DeploymentRecord,
  markConverged,
  recordPhase,
  shortHash,
} from './deployment-record.js';

/** What an adapter gives `reconcileStep`: how to read, advance, record and report one deployment. */
export interface ReconcileStepHooks<Observation> {
  provider: string;
  name: string;
  /** Reads the record and what the cloud has; undefined when nothing is left (the deployment is deleted). */
  observe(
    signal: AbortSignal | undefined,
  ): Promise<{ record: DeploymentRecord; observation: Observation } | undefined>;
  /**
   * Takes the next actions toward `record.desired` (or toward deletion) without waiting for the cloud's
   * long operations, and says whether the cloud already matches the record. Every action must be safe
   * to repeat: a crash may come between any two, and any process may run the step again. `blocked`:
   * the next action needs what this process does not have (the values behind sealed secrets).
   */
  advance(
    record: DeploymentRecord,
    observation: Observation,
    signal: AbortSignal | undefined,
  ): Promise<StepOutcome>;
  /** Writes the record where the backend keeps it. */
  save(record: DeploymentRecord, observation: Observation, signal: AbortSignal | undefined): Promise<void>;
  /** The status after the step; undefined once the deployment is gone. */
  status(signal: AbortSignal | undefined): Promise<DeploymentStatus | undefined>;
  /**
   * Masks secret values a cloud's error may quote (the adapter's `SecretMemory.mask`), before the reason
   * is recorded or thrown. Patterns (tokens, signatures, URL userinfo) are masked either way.
   */
  mask?: (text: string) => string;
}

/** What one step did: nothing left to do, work under way, or a need it cannot meet here. */
export type StepOutcome = 'converged' | 'progressing' | { blocked: string };

/** Most characters of a failure reason kept in a record. */
const maximumReasonLength = 600;

/**
 * One idempotent step of convergence, the same on every backend: observe, advance, record convergence.
 * Upkeep that is not part of a change (removing what an old version left) belongs in `advance` too, but
 * its refusals should be caught there: they must not fail a deployment that serves as asked.
 *
 * A failure the client may retry (throttling, a 5xx, an abort) is thrown as it is and leaves the record
 * alone: the next step carries on. A refusal (access denied, a request the cloud rejects) abandons the
 * change: the record goes back to the spec that serves with the reason kept, one more step puts that
 * spec back in force (its autoscaling, its traffic), and the refusal is thrown saying so.
 */
export async function reconcileStep<Observation>(
  hooks: ReconcileStepHooks<Observation>,
  signal: AbortSignal | undefined,
): Promise<DeploymentStatus | undefined> {
  const seen = await hooks.observe(signal);
  if (!seen) return undefined;
  const { record, observation } = seen;
  let outcome: StepOutcome;
  try {
    outcome = await hooks.advance(record, observation, signal);
    if (outcome === 'converged' && recordPhase(record) !== 'converged' && !record.deleting) {
      await hooks.save(markConverged(record), observation, signal);
    }
  } catch (caught) {
    const failure = toMlscaleError(caught, hooks.provider);
    // Retryable failures, aborts and timeouts leave the record for the next step; so does a failure while
    // nothing is changing (a converged deployment's upkeep) or while deleting: there is nothing to abandon.
    const phase = recordPhase(record);
    if (
      failure.retryable ||
      failure.code === 'Aborted' ||
      failure.code === 'Timeout' ||
      phase === 'converged' ||
      phase === 'deleting'
    ) {
      throw failure;
    }
    const mask = hooks.mask ?? ((text: string) => text);
    const reason = mask(redactText(failure.message)).slice(0, maximumReasonLength);
    const abandoned = abandonRequest(
      record,
      `The change to spec ${shortHash(record.desiredHash)} was refused: ${reason}`,
    );
    await hooks.save(abandoned, observation, signal);
    const restored = abandoned.desiredHash !== record.desiredHash;
    if (restored) await restoreServing(hooks, signal);
    throw new MlscaleError({
      code: failure.code,
      provider: failure.provider ?? hooks.provider,
      retryable: false,
      ...(failure.statusCode === undefined ? {} : { statusCode: failure.statusCode }),
      message: restored
        ? `${withStop(mask(failure.message))} Deployment '${hooks.name}' keeps serving spec ${shortHash(abandoned.desiredHash)}; the change was not made.`
        : `${withStop(mask(failure.message))} Deployment '${hooks.name}' is Failed; fix the cause and deploy again, or delete it.`,
      cause: caught,
    });
  }
  if (typeof outcome === 'object') {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: hooks.provider,
      retryable: false,
      message: `Deployment '${hooks.name}' cannot go on converging to spec ${shortHash(record.desiredHash)} in this process: ${outcome.blocked}`,
    });
  }
  return hooks.status(signal);
}

/** A sentence ends with a stop before the next begins. */
function withStop(message: string): string {
  return /[.!?]$/.test(message.trim()) ? message.trim() : `${message.trim()}.`;
}

/** After a refusal: one step toward the serving spec, best effort (the next reconcile finishes it). */
async function restoreServing<Observation>(
  hooks: ReconcileStepHooks<Observation>,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    const again = await hooks.observe(signal);
    if (again) await hooks.advance(again.record, again.observation, signal);
  } catch {
    // The refusal is what the caller needs to hear; a later reconcile puts the serving spec back.
  }
}
