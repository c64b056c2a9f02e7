import type { protos } from '@google-cloud/aiplatform';
import { waitFor } from '@mlscale/core';
import { awaitOperation, callVertex } from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { labelFilter, labelKeys, locationName } from './names.js';

export type IEndpoint = protos.google.cloud.aiplatform.v1.IEndpoint;
export type IDeployedModel = protos.google.cloud.aiplatform.v1.IDeployedModel;
type IDedicatedResources = protos.google.cloud.aiplatform.v1.IDedicatedResources;

/** The endpoint mlscale created for a deployment, found by its label. */
export async function findEndpoint(
  context: AdapterContext,
  name: string,
  signal?: AbortSignal,
): Promise<IEndpoint | undefined> {
  const clients = await clientsOf(context);
  const [endpoint] = await callVertex(
    context.settings,
    'ListEndpoints',
    async () =>
      (
        await clients.endpoints.listEndpoints({
          parent: locationName(context.settings),
          filter: labelFilter(labelKeys.deployment, name),
        })
      )[0],
    { signal, idempotent: true },
  );
  return endpoint;
}

/** Every endpoint mlscale manages in the location. */
export async function listManagedEndpoints(
  context: AdapterContext,
  signal?: AbortSignal,
): Promise<IEndpoint[]> {
  const clients = await clientsOf(context);
  return callVertex(
    context.settings,
    'ListEndpoints',
    async () =>
      (
        await clients.endpoints.listEndpoints({
          parent: locationName(context.settings),
          filter: labelFilter(labelKeys.managed, 'true'),
        })
      )[0],
    { signal, idempotent: true },
  );
}

export async function createEndpoint(
  context: AdapterContext,
  endpoint: IEndpoint,
  signal: AbortSignal,
): Promise<IEndpoint> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex(
    context.settings,
    'CreateEndpoint',
    () => clients.endpoints.createEndpoint({ parent: locationName(context.settings), endpoint }),
    { signal },
  );
  const created = await awaitOperation(
    context.settings,
    `CreateEndpoint ${endpoint.displayName}`,
    () => clients.endpoints.checkCreateEndpointProgress(operation.name!),
    signal,
  );
  return created as IEndpoint;
}

/** DeployModel: `trafficSplit` key "0" is the model being deployed. */
export async function deployModel(
  context: AdapterContext,
  endpoint: string,
  deployedModel: IDeployedModel,
  trafficSplit: Record<string, number>,
  signal: AbortSignal,
): Promise<IDeployedModel> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex(
    context.settings,
    'DeployModel',
    () => clients.endpoints.deployModel({ endpoint, deployedModel, trafficSplit }),
    { signal },
  );
  const response = await awaitOperation<protos.google.cloud.aiplatform.v1.IDeployModelResponse>(
    context.settings,
    `DeployModel ${deployedModel.displayName}`,
    () => clients.endpoints.checkDeployModelProgress(operation.name!),
    signal,
  );
  return response?.deployedModel ?? {};
}

export async function undeployModel(
  context: AdapterContext,
  endpoint: string,
  deployedModelId: string,
  trafficSplit: Record<string, number> | undefined,
  signal: AbortSignal,
): Promise<void> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex(
    context.settings,
    'UndeployModel',
    () =>
      clients.endpoints.undeployModel({
        endpoint,
        deployedModelId,
        ...(trafficSplit ? { trafficSplit } : {}),
      }),
    { signal },
  );
  await awaitOperation(
    context.settings,
    `UndeployModel ${deployedModelId}`,
    () => clients.endpoints.checkUndeployModelProgress(operation.name!),
    signal,
  );
}

/** MutateDeployedModel: replica counts and autoscaling specs, in place. */
export async function mutateDeployedModel(
  context: AdapterContext,
  endpoint: string,
  deployedModelId: string,
  resources: Pick<IDedicatedResources, 'minReplicaCount' | 'maxReplicaCount' | 'autoscalingMetricSpecs'>,
  signal: AbortSignal,
): Promise<void> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex(
    context.settings,
    'MutateDeployedModel',
    () =>
      clients.endpoints.mutateDeployedModel({
        endpoint,
        // Only the mutable fields: the machine spec of a deployed model is immutable.
        deployedModel: {
          id: deployedModelId,
          dedicatedResources: {
            minReplicaCount: resources.minReplicaCount ?? null,
            maxReplicaCount: resources.maxReplicaCount ?? null,
            autoscalingMetricSpecs: resources.autoscalingMetricSpecs ?? [],
          },
        },
        updateMask: {
          paths: [
            'dedicated_resources.min_replica_count',
            'dedicated_resources.max_replica_count',
            'dedicated_resources.autoscaling_metric_specs',
          ],
        },
      }),
    { signal },
  );
  await awaitOperation(
    context.settings,
    `MutateDeployedModel ${deployedModelId}`,
    () => clients.endpoints.checkMutateDeployedModelProgress(operation.name!),
    signal,
  );
}

/** UpdateEndpoint on the named fields (`traffic_split`, `description`, `labels`). */
export async function updateEndpoint(
  context: AdapterContext,
  endpoint: IEndpoint,
  paths: string[],
  signal: AbortSignal,
): Promise<IEndpoint> {
  const clients = await clientsOf(context);
  const [updated] = await callVertex(
    context.settings,
    'UpdateEndpoint',
    () => clients.endpoints.updateEndpoint({ endpoint, updateMask: { paths } }),
    {
      signal,
    },
  );
  return updated;
}

export async function deleteEndpoint(
  context: AdapterContext,
  name: string,
  signal: AbortSignal,
): Promise<void> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex(
    context.settings,
    'DeleteEndpoint',
    () => clients.endpoints.deleteEndpoint({ name }),
    { signal },
  );
  await awaitOperation(
    context.settings,
    `DeleteEndpoint ${name}`,
    () => clients.endpoints.checkDeleteEndpointProgress(operation.name!),
    signal,
  );
}

/**
 * Waits until no operation on the endpoint is running, so a deploy resumed by another process does not
 * deploy the same model a second time while the first DeployModel is still in flight.
 */
export async function settleOperations(
  context: AdapterContext,
  endpointName: string,
  signal: AbortSignal,
): Promise<void> {
  const clients = await clientsOf(context);
  await waitFor({
    description: `operations on ${endpointName} to finish`,
    minDelayMs: context.settings.polling.minDelayMs,
    maxDelayMs: context.settings.polling.maxDelayMs,
    maxWaitMs: Number.MAX_SAFE_INTEGER,
    signal,
    check: async () => {
      const running = await callVertex(
        context.settings,
        'ListOperations',
        async () => {
          let count = 0;
          for await (const operation of clients.endpoints.listOperationsAsync(
            { name: endpointName } as Parameters<typeof clients.endpoints.listOperationsAsync>[0],
            { autoPaginate: false },
          ))
            if (!operation.done) count += 1;
          return count;
        },
        { signal, idempotent: true },
      );
      return running === 0
        ? { state: 'SUCCESS', value: undefined }
        : { state: 'RETRY', progress: `${running} operations running` };
    },
  });
}
