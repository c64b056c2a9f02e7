import type { protos } from '@google-cloud/aiplatform';
import { MlscaleError } from '@mlscale/core';
import { callVertex, collect, listAll, type OperationState, singleAttempt, singlePage } from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { staleEtagConflict } from './errors.js';
import { labelFilter, labelKeys, locationName } from './names.js';

export type IEndpoint = protos.google.cloud.aiplatform.v1.IEndpoint;
export type IDeployedModel = protos.google.cloud.aiplatform.v1.IDeployedModel;
type IDedicatedResources = protos.google.cloud.aiplatform.v1.IDedicatedResources;

/**
 * The calls a deployment makes to EndpointService and the Operations service: each one request, no
 * waiting. Long-running ones resolve the operation they started; a later step looks at it again.
 */

/** What a step keeps of an operation: all of it but the SDK's wrapper (its error above all). */
function operationState(operation: OperationState): OperationState {
  return {
    name: operation.name,
    done: operation.done,
    ...(operation.error ? { error: operation.error } : {}),
    ...(operation.metadata ? { metadata: operation.metadata } : {}),
    ...(operation.response ? { response: operation.response } : {}),
  };
}

/** The endpoint, or undefined when there is none (NOT_FOUND). */
export async function getEndpoint(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<IEndpoint | undefined> {
  const clients = await clientsOf(context);
  try {
    const [endpoint] = await callVertex('GetEndpoint', signal, () =>
      clients.endpoints.getEndpoint({ name }, singleAttempt),
    );
    return endpoint;
  } catch (error) {
    if (MlscaleError.hasCode(error, 'NotFound')) return undefined;
    throw error;
  }
}

/** Every endpoint mlscale manages in the location (ListEndpoints, page by page). */
export function listManagedEndpoints(
  context: AdapterContext,
  signal: AbortSignal | undefined,
): AsyncGenerator<IEndpoint> {
  return listAll<IEndpoint>('ListEndpoints', signal, async (pageToken) => {
    const clients = await clientsOf(context);
    return clients.endpoints.listEndpoints(
      {
        parent: locationName(context.settings),
        filter: labelFilter(labelKeys.managed, 'true'),
        ...(pageToken ? { pageToken } : {}),
      },
      singlePage,
    );
  });
}

/** CreateEndpoint under a chosen id; resolves the operation. */
export async function createEndpoint(
  context: AdapterContext,
  endpointId: string,
  endpoint: IEndpoint,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('CreateEndpoint', signal, () =>
    clients.endpoints.createEndpoint(
      { parent: locationName(context.settings), endpoint, endpointId },
      singleAttempt,
    ),
  );
  return operationState(operation);
}

/**
 * UpdateEndpoint of the named fields (`description`, `labels`, `traffic_split`), sent with the etag of
 * the endpoint as it was read: Vertex refuses the write if the endpoint changed since (another process
 * saved a record, an operation finished), and that refusal is a retryable `Conflict`, so the client
 * takes the step again from a fresh read instead of writing over what it did not see.
 */
export async function updateEndpoint(
  context: AdapterContext,
  endpoint: IEndpoint & { name: string; etag: string | null | undefined },
  paths: string[],
  signal: AbortSignal | undefined,
): Promise<IEndpoint> {
  const clients = await clientsOf(context);
  try {
    const [updated] = await callVertex('UpdateEndpoint', signal, () =>
      clients.endpoints.updateEndpoint({ endpoint, updateMask: { paths } }, singleAttempt),
    );
    return updated;
  } catch (error) {
    throw staleEtagConflict(error, endpoint.name) ?? error;
  }
}

/** DeployModel: `trafficSplit` key "0" is the model being deployed; empty leaves the split as it is. */
export async function deployModel(
  context: AdapterContext,
  endpoint: string,
  deployedModel: IDeployedModel,
  trafficSplit: Record<string, number>,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('DeployModel', signal, () =>
    clients.endpoints.deployModel({ endpoint, deployedModel, trafficSplit }, singleAttempt),
  );
  return operationState(operation);
}

/** UndeployModel; `trafficSplit` (for the models that stay) when the one going still has traffic. */
export async function undeployModel(
  context: AdapterContext,
  endpoint: string,
  deployedModelId: string,
  trafficSplit: Record<string, number> | undefined,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('UndeployModel', signal, () =>
    clients.endpoints.undeployModel(
      { endpoint, deployedModelId, ...(trafficSplit ? { trafficSplit } : {}) },
      singleAttempt,
    ),
  );
  return operationState(operation);
}

/** The fields MutateDeployedModel changes in place: replica counts and autoscaling metric specs. */
export const mutableResourcePaths = [
  'dedicated_resources.min_replica_count',
  'dedicated_resources.max_replica_count',
  'dedicated_resources.autoscaling_metric_specs',
];

export async function mutateDeployedModel(
  context: AdapterContext,
  endpoint: string,
  deployedModelId: string,
  resources: Pick<IDedicatedResources, 'minReplicaCount' | 'maxReplicaCount' | 'autoscalingMetricSpecs'>,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('MutateDeployedModel', signal, () =>
    clients.endpoints.mutateDeployedModel(
      {
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
        updateMask: { paths: mutableResourcePaths },
      },
      singleAttempt,
    ),
  );
  return operationState(operation);
}

export async function deleteEndpoint(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('DeleteEndpoint', signal, () =>
    clients.endpoints.deleteEndpoint({ name }, singleAttempt),
  );
  return operationState(operation);
}

/** The operations of one resource (an endpoint, a model): ListOperations, page by page; none when it is missing. */
export async function listOperations(
  context: AdapterContext,
  resource: string,
  signal: AbortSignal | undefined,
): Promise<OperationState[]> {
  const clients = await clientsOf(context);
  try {
    return await collect(
      listAll<OperationState>(
        'ListOperations',
        signal,
        (pageToken) =>
          clients.endpoints.operationsClient.listOperations(
            { name: resource, filter: '', ...(pageToken ? { pageToken } : {}) } as never,
            singlePage as never,
          ) as Promise<unknown>,
      ),
    );
  } catch (error) {
    // Steps list the operations of endpoints and models that do not exist yet (or any more). AIP-132 has
    // a List of a missing parent answer NOT_FOUND; whether Vertex's ListOperations does is not
    // documented, so NOT_FOUND reads as what it means here: nothing runs on that resource.
    if (MlscaleError.hasCode(error, 'NotFound')) return [];
    throw error;
  }
}

/** One look at an operation (GetOperation); undefined when the service no longer has it. */
export async function getOperation(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<OperationState | undefined> {
  const clients = await clientsOf(context);
  try {
    const [operation] = await callVertex('GetOperation', signal, () =>
      clients.endpoints.getOperation({ name } as never, singleAttempt),
    );
    return operationState(operation);
  } catch (error) {
    if (MlscaleError.hasCode(error, 'NotFound')) return undefined;
    throw error;
  }
}
