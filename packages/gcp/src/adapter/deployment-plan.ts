import { type DeploymentRecord, recordPhase } from '@mlscale/core/provider-utils';
import { toDate } from './context.js';
import {
  deployedById,
  type ObservedOperation,
  running,
  type VertexObservation,
} from './deployment-observation.js';
import { integerPercentages } from './deployment-requests.js';
import type { RolloutProgress } from './deployment-store.js';
import { finalSplit, sameResources, type Target } from './deployment-targets.js';
import type { IDeployedModel } from './endpoint-calls.js';
import { nextTrafficMove } from './traffic-rollout.js';
import { positiveSplit, sameSplit } from './traffic-split.js';

/**
 * The next thing one reconcile step does, decided from the record and what the cloud holds alone (no
 * memory of earlier steps), so any process can take the step again after a crash.
 */
export type StepAction =
  /** Something runs (an operation, a rollout step's observation time): look again later. */
  | { kind: 'wait'; reason: string }
  /** An operation the change started ended in error: the change is refused. */
  | { kind: 'refuse'; operation: ObservedOperation }
  | { kind: 'uploadModel'; target: Target }
  /** DeployModel with no traffic (or all of it, for the first model). */
  | { kind: 'deployModel'; target: Target; trafficSplit: Record<string, number> }
  /** Moves traffic; `rollout` is the progress to record with it, `judge` the step to check first. */
  | {
      kind: 'moveTraffic';
      split: Record<string, number>;
      rollout?: RolloutProgress;
      judge?: { since: Date; step: number; deployedModelIds: string[] };
    }
  | { kind: 'mutateResources'; target: Target }
  /** UndeployModel of what the spec no longer wants (or of everything, when deleting). */
  | { kind: 'undeployModel'; deployedModelId: string; trafficSplit?: Record<string, number> }
  /** DeleteModel of models mlscale uploaded for this deployment that nothing uses. */
  | { kind: 'deleteModels'; models: string[] }
  | { kind: 'deleteEndpoint' }
  | { kind: 'converged' };

/** Operations whose failure refuses a change (cleanup and teardown ones are only tried again). */
const changeOperations = new Set(['UploadModel', 'DeployModel', 'MutateDeployedModel']);

/**
 * The next step toward `record.desired`, in the order that keeps the serving version whole: upload the
 * new model, deploy it beside the old one with no traffic, move traffic (in the rollout's steps, each
 * observed for `stepSeconds` across steps), set replica counts and autoscaling in place, then undeploy
 * and delete what is no longer wanted; only then is the change converged.
 */
export function planChange(
  record: DeploymentRecord,
  observation: VertexObservation,
  targets: readonly Target[],
  now: Date,
): StepAction {
  const { endpoint, progress } = observation;
  if (record.failure?.specHash === record.desiredHash) {
    // Refused and not asked for again: it stays so (deploying the same spec again retries it).
    return { kind: 'wait', reason: record.failure.message };
  }
  const failed = failedChangeOperation(observation, targets);
  if (failed) return { kind: 'refuse', operation: failed };
  const inFlight = running(observation.endpointOperations);
  if (inFlight.length > 0) {
    const kinds = [...new Set(inFlight.map((operation) => operation.kind))].join(', ');
    return { kind: 'wait', reason: `${kinds} in progress` };
  }
  const deployed = deployedById(observation);
  const split = positiveSplit(endpoint.trafficSplit);
  for (const target of targets) {
    const modelStep = planModel(observation, target);
    if (modelStep) return modelStep;
    if (!deployed.has(target.deployedModelId)) {
      return {
        kind: 'deployModel',
        target,
        // "0" is the model being deployed: all traffic for the first one, none beside others.
        trafficSplit: Object.keys(split).length === 0 ? { '0': 100 } : { '0': 0, ...split },
      };
    }
  }
  const final = finalSplit(targets);
  if (!sameSplit(split, final)) {
    // Creating, or putting a converged deployment back as recorded (after a refusal): all at once.
    if (recordPhase(record) !== 'converging') return { kind: 'moveTraffic', split: final };
    return nextTrafficMove(record.desired.rollout, progress?.rollout, split, final, now);
  }
  for (const target of targets) {
    if (!sameResources(deployed.get(target.deployedModelId)!, target.resources))
      return { kind: 'mutateResources', target };
  }
  return planCleanup(observation, targets);
}

/**
 * An upload, deployment or mutation this change started (created after it was asked for, by Vertex's
 * clock: `ChangeProgress.since`, or the endpoint's create_time for a new deployment) that ended in
 * error. Found from the cloud alone, so the process that started it need not be the one that sees it.
 */
function failedChangeOperation(
  observation: VertexObservation,
  targets: readonly Target[],
): ObservedOperation | undefined {
  // Without a change in flight there is nothing to refuse: old failures are not this change's.
  if (!observation.progress) return undefined;
  const reference = observation.progress.since
    ? new Date(observation.progress.since)
    : toDate(observation.endpoint.createTime);
  // Strictly later: an operation Vertex showed when the change was asked for is an earlier one's.
  const since = reference?.getTime() ?? Number.NEGATIVE_INFINITY;
  const candidates = [
    ...observation.endpointOperations,
    ...targets.flatMap((target) =>
      target.source.kind === 'artifact'
        ? (observation.modelOperations.get(target.source.modelName) ?? [])
        : [],
    ),
  ];
  return candidates
    .filter(
      (operation) =>
        operation.done &&
        operation.error &&
        changeOperations.has(operation.kind) &&
        (operation.createdAt?.getTime() ?? 0) > since,
    )
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
}

/** An upload the target needs, or a wait for one in flight; undefined when its model is ready. */
function planModel(observation: VertexObservation, target: Target): StepAction | undefined {
  if (target.source.kind !== 'artifact') return undefined;
  const { modelName } = target.source;
  const inFlight = running(observation.modelOperations.get(modelName));
  if (inFlight.length > 0)
    return {
      kind: 'wait',
      reason: `${inFlight.map((operation) => operation.kind).join(', ')} in progress on ${modelName}`,
    };
  if (!observation.models.some((model) => model.name === modelName)) return { kind: 'uploadModel', target };
  return undefined;
}

/** Undeploys deployed models no target wants (they have no traffic by now), then deletes unused models. */
function planCleanup(observation: VertexObservation, targets: readonly Target[]): StepAction {
  const wanted = new Set(targets.map((target) => target.deployedModelId));
  const leftover = (observation.endpoint.deployedModels ?? []).find((deployed) => !wanted.has(deployed.id!));
  if (leftover?.id) return { kind: 'undeployModel', deployedModelId: leftover.id };
  const used = new Set(
    targets.flatMap((target) => (target.source.kind === 'artifact' ? [target.source.modelName] : [])),
  );
  const unused = unusedModels(observation, used);
  if (unused.deletable.length > 0) return { kind: 'deleteModels', models: unused.deletable };
  if (unused.deleting.length > 0)
    return { kind: 'wait', reason: `model ${unused.deleting.join(', ')} is being deleted` };
  return { kind: 'converged' };
}

/** Models uploaded for the deployment that no target uses and no endpoint serves. */
function unusedModels(
  observation: VertexObservation,
  used: ReadonlySet<string>,
): { deletable: string[]; deleting: string[] } {
  const deletable: string[] = [];
  const deleting: string[] = [];
  for (const model of observation.models) {
    if (!model.name || used.has(model.name) || (model.deployedModels?.length ?? 0) > 0) continue;
    if (running(observation.modelOperations.get(model.name)).length > 0) deleting.push(model.name);
    else deletable.push(model.name);
  }
  return { deletable, deleting };
}

/**
 * The next step of a deletion: wait for operations in flight, undeploy every model (those without
 * traffic first; the last one may keep its share, Vertex empties the split), delete the models mlscale
 * uploaded (not those another endpoint still serves), then the endpoint, which holds the record.
 */
export function planTeardown(observation: VertexObservation): StepAction {
  const inFlight = running(observation.endpointOperations);
  if (inFlight.length > 0) {
    const kinds = [...new Set(inFlight.map((operation) => operation.kind))].join(', ');
    return { kind: 'wait', reason: `${kinds} in progress` };
  }
  const deployed = observation.endpoint.deployedModels ?? [];
  if (deployed.length > 0) return undeployNext(deployed, positiveSplit(observation.endpoint.trafficSplit));
  const pending = [...observation.modelOperations.entries()].filter(
    ([, operations]) => running(operations).length > 0,
  );
  if (pending.length > 0)
    return { kind: 'wait', reason: `operations in progress on ${pending.map(([name]) => name).join(', ')}` };
  const unused = unusedModels(observation, new Set());
  if (unused.deletable.length > 0) return { kind: 'deleteModels', models: unused.deletable };
  return { kind: 'deleteEndpoint' };
}

/**
 * Which deployed model to undeploy first and the split for those that stay: Vertex undeploys a model
 * only when no traffic goes to it, or the request's split takes its share away (or it is the last).
 */
function undeployNext(deployed: IDeployedModel[], split: Record<string, number>): StepAction {
  const idle = deployed.find((model) => !(model.id! in split));
  if (idle?.id) return { kind: 'undeployModel', deployedModelId: idle.id };
  if (deployed.length === 1) return { kind: 'undeployModel', deployedModelId: deployed[0]!.id! };
  const [smallest] = [...deployed].sort((a, b) => (split[a.id!] ?? 0) - (split[b.id!] ?? 0));
  const staying = Object.keys(split).filter((id) => id !== smallest!.id);
  const shares = integerPercentages(staying.map((id) => split[id]!));
  return {
    kind: 'undeployModel',
    deployedModelId: smallest!.id!,
    trafficSplit: Object.fromEntries(staying.map((id, index) => [id, shares[index]!])),
  };
}
