import type { DeploymentRecord, ObservedDeployment } from '@mlscale/core/provider-utils';
import type { OperationState } from './calls.js';
import { type AdapterContext, toDate } from './context.js';
import { type ChangeProgress, readDeployment } from './deployment-store.js';
import { sameResources, type Target, targetsOf } from './deployment-targets.js';
import { getEndpoint, type IEndpoint, listOperations } from './endpoint-calls.js';
import { type IModel, listModels } from './model-resolver.js';
import { endpointName, labelFilter, labelKeys } from './names.js';
import { operationFacts } from './operation-metadata.js';
import { positiveSplit, sameSplit } from './traffic-split.js';

/** An operation as a step reads it: its state, what started it, and when. */
export interface ObservedOperation {
  name: string;
  done: boolean;
  error: { code?: number | null; message?: string | null } | undefined;
  /** The RPC that started it (`DeployModel`, `UploadModel`, `Delete`, ...). */
  kind: string;
  createdAt: Date | undefined;
}

/** What the cloud holds for one deployment, read (never written) at the start of a step or a status. */
export interface VertexObservation {
  endpoint: IEndpoint;
  record: DeploymentRecord;
  /** Where the desired spec's change stands, when one is in flight. */
  progress: ChangeProgress | undefined;
  /** The endpoint's long-running operations, done or not. */
  endpointOperations: ObservedOperation[];
  /** The models mlscale uploaded for this deployment (label `mlscale-deployment`). */
  models: IModel[];
  /** Operations on those models and on the models the record's specs need, done or not, by model name. */
  modelOperations: Map<string, ObservedOperation[]>;
}

/**
 * Reads a deployment: its endpoint and record, the operations on it and on its models, and the models
 * it uploaded. Operations are read before what they change (an endpoint's before the endpoint, a
 * model's before the model list), so an operation that ends between two reads shows as running, never
 * as neither running nor done.
 */
export async function observeDeployment(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
  known?: IEndpoint,
): Promise<VertexObservation | undefined> {
  const endpointResource = endpointName(context.settings, name);
  const operationsOf = async (resource: string) =>
    (await listOperations(context, resource, signal)).map(observedOperation);
  const endpointOperations = await operationsOf(endpointResource);
  const endpoint = known ?? (await getEndpoint(context, endpointResource, signal));
  const stored = endpoint ? readDeployment(endpoint) : undefined;
  if (!endpoint?.name || !stored) return undefined;
  const { record, progress } = stored;
  const modelOperations = new Map<string, ObservedOperation[]>();
  // Uploads in flight have no model yet: watch the models the specs need as well as those there are.
  for (const spec of [record.desired, record.serving]) {
    if (!spec) continue;
    for (const target of targetsOf(context, spec)) {
      const model = target.source.kind === 'artifact' ? target.source.modelName : undefined;
      if (model && !modelOperations.has(model)) modelOperations.set(model, await operationsOf(model));
    }
  }
  const models = await listModels(context, labelFilter(labelKeys.deployment, name), signal);
  for (const model of models) {
    if (model.name && !modelOperations.has(model.name))
      modelOperations.set(model.name, await operationsOf(model.name));
  }
  return { endpoint, record, progress, endpointOperations, models, modelOperations };
}

export function observedOperation(operation: OperationState): ObservedOperation {
  const facts = operationFacts(operation);
  return {
    name: operation.name ?? '',
    done: operation.done === true,
    error: operation.error?.code ? operation.error : undefined,
    kind: facts.kind,
    createdAt: facts.createdAt,
  };
}

/**
 * The newest time Vertex has shown for the deployment: the endpoint's update_time and create_time, and
 * the create_time of every operation on it and its models. A change recorded now takes it as its
 * `since`: operations created later are that change's (see `ChangeProgress.since`).
 */
export function newestVertexTime(observation: VertexObservation): Date | undefined {
  const times = [
    toDate(observation.endpoint.updateTime),
    toDate(observation.endpoint.createTime),
    ...observation.endpointOperations.map((operation) => operation.createdAt),
    ...[...observation.modelOperations.values()].flat().map((operation) => operation.createdAt),
  ].filter((time): time is Date => time !== undefined);
  if (times.length === 0) return undefined;
  return new Date(Math.max(...times.map((time) => time.getTime())));
}

/** Operations not done yet. */
export function running(operations: readonly ObservedOperation[] | undefined): ObservedOperation[] {
  return (operations ?? []).filter((operation) => !operation.done);
}

/** The deployed models on the endpoint, by id. */
export function deployedById(observation: VertexObservation) {
  return new Map((observation.endpoint.deployedModels ?? []).map((deployed) => [deployed.id!, deployed]));
}

/** What runs against what the record's desired spec asks for, in core's terms (for `convergenceFields`). */
export function observedDeployment(
  observation: VertexObservation,
  targets: readonly Target[],
): ObservedDeployment {
  const deployed = observation.endpoint.deployedModels ?? [];
  const inFlight = running(observation.endpointOperations);
  if (inFlight.length > 0) {
    const kinds = [...new Set(inFlight.map((operation) => operation.kind))].join(', ');
    return {
      state: deployed.length === 0 ? 'Creating' : 'Updating',
      reason: `${kinds} in progress on endpoint ${observation.endpoint.name}`,
      matchesDesired: false,
    };
  }
  if (deployed.length === 0) {
    return { state: 'Creating', reason: 'no model is deployed on the endpoint yet', matchesDesired: false };
  }
  const differences = differencesFromDesired(observation, targets);
  return {
    state: 'InService',
    matchesDesired: differences.length === 0,
    ...(differences.length > 0 ? { difference: differences.join('; ') } : {}),
  };
}

/** How the endpoint differs from the targets: missing or extra deployed models, capacity, traffic. */
export function differencesFromDesired(observation: VertexObservation, targets: readonly Target[]): string[] {
  const byId = deployedById(observation);
  const differences: string[] = [];
  for (const target of targets) {
    const deployed = byId.get(target.deployedModelId);
    if (!deployed) differences.push(`${target.field} is not deployed yet`);
    else if (!sameResources(deployed, target.resources))
      differences.push(
        `deployed model ${target.deployedModelId} runs ${replicaText(deployed.dedicatedResources)}, ${replicaText(target.resources)} asked for`,
      );
  }
  const wanted = new Set(targets.map((target) => target.deployedModelId));
  const split = positiveSplit(observation.endpoint.trafficSplit);
  const final: Record<string, number> = {};
  for (const target of targets) if (target.weight > 0) final[target.deployedModelId] = target.weight;
  if (!sameSplit(split, final))
    differences.push(`traffic is ${splitText(split)}, ${splitText(final)} asked for`);
  for (const deployed of byId.values())
    if (!wanted.has(deployed.id!))
      differences.push(`deployed model ${deployed.id} (${deployed.displayName}) is no longer wanted`);
  return differences;
}

function replicaText(resources: Target['resources'] | null | undefined): string {
  const min = Number(resources?.minReplicaCount ?? 0);
  const max = Number(resources?.maxReplicaCount ?? 0);
  const metrics = (resources?.autoscalingMetricSpecs ?? []).map(
    (spec) => `${String(spec.metricName).split('/').slice(-2).join('/')} ${spec.target}`,
  );
  return `${min === max ? `${min}` : `${min}–${max}`} replicas${metrics.length ? ` (${metrics.join(', ')})` : ''}`;
}

function splitText(split: Record<string, number>): string {
  const entries = Object.entries(split);
  return entries.length === 0 ? 'off' : entries.map(([id, percent]) => `${id}: ${percent}%`).join(', ');
}
