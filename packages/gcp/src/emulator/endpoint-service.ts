import { createHash } from 'node:crypto';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp } from './clock.js';
import { checkedParent, type EmulatorContext, requiredString, unaryHandlers } from './context.js';
import { unusableKeyError } from './encryption-keys.js';
import { matchesFilter, parseFilter } from './filter.js';
import { statusError } from './grpc-status.js';
import { pageOf } from './list-pages.js';
import { findModelVersion } from './model-service.js';
import { checkDeployedModelId, checkEndpointId, checkLabels, checkTrafficSplit } from './resource-rules.js';
import type { StoredDeployedModel, StoredEndpoint, Wire } from './vertex-state.js';

const v1 = 'google.cloud.aiplatform.v1';
const prefix = 'aiplatform.googleapis.com/prediction/online/';
/** Metric names DedicatedResources.autoscaling_metric_specs accepts. */
const autoscalingMetrics = new Set([
  `${prefix}cpu/utilization`,
  `${prefix}accelerator/duty_cycle`,
  `${prefix}request_count`,
]);

/**
 * Records a change of an endpoint: a new update_time and etag. The etag is a checksum of the content, as
 * AIP-154 asks ("a checksum based on the current content of a resource"), so every change makes a new one.
 */
function touch(context: EmulatorContext, endpoint: StoredEndpoint): void {
  endpoint.updateTime = timestamp(context.clock.now());
  endpoint.etag = etagOf(endpoint);
}

function etagOf(endpoint: StoredEndpoint): string {
  const { etag: _etag, ...content } = endpoint;
  return createHash('sha256').update(JSON.stringify(content)).digest('base64url').slice(0, 16);
}

/**
 * An UpdateEndpoint that sends an etag other than the endpoint's current one is refused: Endpoint.etag is
 * "used to perform consistent read-modify-write updates" (endpoint.proto); none sent is a blind
 * overwrite. ⚠ The status is AIP-154's (ABORTED; an older revision of the AIP said FAILED_PRECONDITION)
 * and the wording the emulator's: Vertex documents neither.
 */
function checkEtag(endpoint: StoredEndpoint, sent: unknown): void {
  if (typeof sent !== 'string' || sent === '' || sent === endpoint.etag) return;
  throw statusError(
    'ABORTED',
    `The etag "${sent}" of endpoint "${endpoint.name}" does not match its current etag: it was changed since it was read. Read it again and retry.`,
  );
}

export function findEndpoint(context: EmulatorContext, name: string): StoredEndpoint {
  const endpoint = context.state.endpoints.get(name);
  if (!endpoint) throw statusError('NOT_FOUND', `Endpoint "${name}" not found.`);
  return endpoint;
}

function checkDedicatedResources(resources: StoredDeployedModel['dedicatedResources'], path: string): void {
  if (!resources)
    throw statusError('INVALID_ARGUMENT', `Field "${path}" is required for a custom-container model.`);
  if (!resources.machineSpec?.machineType) {
    throw statusError('INVALID_ARGUMENT', `Field "${path}.machine_spec.machine_type" is required.`);
  }
  checkReplicas(resources, path);
}

function checkReplicas(
  resources: NonNullable<StoredDeployedModel['dedicatedResources']>,
  path: string,
): void {
  const min = resources.minReplicaCount ?? 0;
  const max = resources.maxReplicaCount || min;
  if (min < 1) throw statusError('INVALID_ARGUMENT', `${path}.min_replica_count must be at least 1.`);
  if (max < min)
    throw statusError('INVALID_ARGUMENT', `${path}.max_replica_count must be at least min_replica_count.`);
  for (const spec of resources.autoscalingMetricSpecs ?? []) {
    if (!autoscalingMetrics.has(spec.metricName)) {
      throw statusError('INVALID_ARGUMENT', `Unsupported autoscaling metric "${spec.metricName}".`);
    }
    if (spec.metricName !== `${prefix}request_count` && (spec.target < 1 || spec.target > 100)) {
      throw statusError(
        'INVALID_ARGUMENT',
        `Autoscaling target for ${spec.metricName} must be from 1 to 100.`,
      );
    }
  }
}

/** RPCs that change what an endpoint serves: Vertex runs one at a time per endpoint. */
const endpointMutations = new Set([
  'CreateEndpoint',
  'DeployModel',
  'UndeployModel',
  'MutateDeployedModel',
  'DeleteEndpoint',
]);

/**
 * FAILED_PRECONDITION while another deployment operation runs on the endpoint (⚠ the refusal is
 * Vertex's behaviour as users report it; its exact wording is not documented).
 */
function requireIdle(context: EmulatorContext, endpoint: string, method: string): void {
  const busy = context.operations
    .running(endpoint)
    .find((operation) => endpointMutations.has(operation.method));
  if (busy) {
    throw statusError(
      'FAILED_PRECONDITION',
      `${method} cannot start: operation ${busy.name} (${busy.method}) is still in progress on endpoint ${endpoint}.`,
    );
  }
}

export function endpointService(context: EmulatorContext): UntypedServiceImplementation {
  const { state } = context;

  const recordReplicas = (endpoint: StoredEndpoint, deployed: StoredDeployedModel, replicas: number) => {
    context.metrics.record({
      type: `${prefix}replicas`,
      resourceLabels: {
        endpoint_id: endpoint.name.split('/').at(-1)!,
        resource_container: endpoint.name.split('/')[1]!,
      },
      metricLabels: { deployed_model_id: deployed.id },
      time: new Date(),
      value: replicas,
    });
  };

  return unaryHandlers(context, 'EndpointService', {
    CreateEndpoint(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const input = (request.endpoint ?? {}) as Wire;
      if (typeof input.displayName !== 'string' || !input.displayName) {
        throw statusError('INVALID_ARGUMENT', 'Field "endpoint.display_name" is required.');
      }
      checkLabels(input.labels as Record<string, string> | undefined, 'endpoint.labels');
      if (Object.keys((input.trafficSplit as Record<string, number> | undefined) ?? {}).length > 0)
        checkTrafficSplit(input.trafficSplit as Record<string, number>, new Set());
      const chosen =
        typeof request.endpointId === 'string' && request.endpointId ? request.endpointId : undefined;
      if (chosen) checkEndpointId(chosen);
      const name = `${parent}/endpoints/${chosen ?? context.nextId()}`;
      // A chosen id is taken from the request on: by an endpoint, or by a create still in progress.
      if (state.endpoints.has(name) || context.operations.running(name).length > 0)
        throw statusError('ALREADY_EXISTS', `Endpoint "${name}" already exists.`);
      return context.operations.start({
        resource: name,
        method: 'CreateEndpoint',
        metadataType: `${v1}.CreateEndpointOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          const refusal = unusableKeyError(context, input.encryptionSpec);
          if (refusal) throw refusal;
          const now = timestamp(context.clock.now());
          const endpoint: StoredEndpoint = {
            ...input,
            name,
            displayName: String(input.displayName),
            labels: (input.labels as Record<string, string>) ?? {},
            deployedModels: [],
            trafficSplit: {},
            createTime: now,
            updateTime: now,
            etag: '',
          };
          endpoint.etag = etagOf(endpoint);
          state.endpoints.set(name, endpoint);
          return { type: `${v1}.Endpoint`, message: endpoint };
        },
      });
    },
    GetEndpoint(request) {
      // What the endpoint is now, not a live view (an answer held back by a test must not change).
      return structuredClone(findEndpoint(context, requiredString(request, 'name')));
    },
    ListEndpoints(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const clauses = parseFilter(request.filter as string | undefined);
      if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
      const endpoints = [...state.endpoints.values()].filter(
        (endpoint) => endpoint.name.startsWith(`${parent}/`) && matchesFilter(clauses, endpoint),
      );
      const page = pageOf(endpoints, request);
      return { endpoints: page.items, nextPageToken: page.nextPageToken };
    },
    UpdateEndpoint(request) {
      const input = (request.endpoint ?? {}) as Wire;
      const endpoint = findEndpoint(context, String(input.name ?? ''));
      const paths = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map((path) =>
        path.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()),
      );
      if (paths.length === 0) throw statusError('INVALID_ARGUMENT', 'Field "update_mask" is required.');
      checkEtag(endpoint, input.etag);
      const allowed = new Set(['displayName', 'description', 'labels', 'trafficSplit']);
      for (const path of paths) {
        if (!allowed.has(path)) throw statusError('INVALID_ARGUMENT', `Field "${path}" cannot be updated.`);
      }
      if (paths.includes('trafficSplit')) {
        const split = (input.trafficSplit ?? {}) as Record<string, number>;
        checkTrafficSplit(split, new Set(endpoint.deployedModels.map((deployed) => deployed.id)));
      }
      if (paths.includes('labels'))
        checkLabels(input.labels as Record<string, string> | undefined, 'endpoint.labels');
      for (const path of paths)
        (endpoint as Wire)[path] = input[path] ?? (path === 'labels' || path === 'trafficSplit' ? {} : '');
      touch(context, endpoint);
      return structuredClone(endpoint);
    },
    DeleteEndpoint(request) {
      const name = requiredString(request, 'name');
      const endpoint = findEndpoint(context, name);
      requireIdle(context, name, 'DeleteEndpoint');
      if (endpoint.deployedModels.length > 0) {
        throw statusError(
          'FAILED_PRECONDITION',
          `Endpoint "${name}" has deployed models; undeploy them first.`,
        );
      }
      return context.operations.start({
        resource: name,
        method: 'DeleteEndpoint',
        metadataType: `${v1}.DeleteOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          state.endpoints.delete(name);
          return { type: 'google.protobuf.Empty', message: {} };
        },
      });
    },
    DeployModel(request) {
      const endpoint = findEndpoint(context, requiredString(request, 'endpoint'));
      const input = (request.deployedModel ?? {}) as Wire;
      if (typeof input.model !== 'string' || !input.model) {
        throw statusError('INVALID_ARGUMENT', 'Field "deployed_model.model" is required.');
      }
      requireIdle(context, endpoint.name, 'DeployModel');
      const model = findModelVersion(context, input.model);
      const modelBusy = context.operations.running(model.name)[0];
      if (modelBusy)
        throw statusError(
          'FAILED_PRECONDITION',
          `Model "${model.name}" cannot be deployed: operation ${modelBusy.name} (${modelBusy.method}) is in progress on it.`,
        );
      const resources = input.dedicatedResources as StoredDeployedModel['dedicatedResources'];
      checkDedicatedResources(resources, 'deployed_model.dedicated_resources');
      const split = (request.trafficSplit ?? {}) as Record<string, number>;
      checkTrafficSplit(split, new Set(endpoint.deployedModels.map((deployed) => deployed.id)), {
        deploying: true,
      });
      const id = typeof input.id === 'string' && input.id ? input.id : context.nextId();
      checkDeployedModelId(id);
      if (endpoint.deployedModels.some((deployed) => deployed.id === id)) {
        throw statusError('ALREADY_EXISTS', `Deployed model "${id}" already exists on the endpoint.`);
      }
      return context.operations.start({
        resource: endpoint.name,
        method: 'DeployModel',
        metadataType: `${v1}.DeployModelOperationMetadata`,
        delayMs: context.delays.operationMs + context.delays.deployExtraMs,
        complete: () => {
          const current = findEndpoint(context, endpoint.name);
          const deployed: StoredDeployedModel = {
            ...input,
            id,
            model: model.name,
            modelVersionId: model.versionId,
            displayName:
              typeof input.displayName === 'string' && input.displayName
                ? input.displayName
                : model.displayName,
            dedicatedResources: resources,
            createTime: timestamp(context.clock.now()),
          };
          current.deployedModels.push(deployed);
          model.deployedModels.push({ endpoint: current.name, deployedModelId: id });
          if (Object.keys(split).length > 0) {
            current.trafficSplit = Object.fromEntries(
              Object.entries(split).map(([key, percent]) => [key === '0' ? id : key, percent]),
            );
          } else if (current.deployedModels.length === 1) {
            current.trafficSplit = { [id]: 100 };
          }
          touch(context, current);
          recordReplicas(current, deployed, resources?.minReplicaCount ?? 1);
          return { type: `${v1}.DeployModelResponse`, message: { deployedModel: deployed } };
        },
      });
    },
    UndeployModel(request) {
      const endpoint = findEndpoint(context, requiredString(request, 'endpoint'));
      const id = requiredString(request, 'deployedModelId');
      const deployed = endpoint.deployedModels.find((candidate) => candidate.id === id);
      if (!deployed)
        throw statusError('NOT_FOUND', `Deployed model "${id}" not found on "${endpoint.name}".`);
      requireIdle(context, endpoint.name, 'UndeployModel');
      const remaining = endpoint.deployedModels.filter((candidate) => candidate.id !== id);
      const split = (request.trafficSplit ?? {}) as Record<string, number>;
      if (Object.keys(split).length > 0) {
        checkTrafficSplit(split, new Set(remaining.map((candidate) => candidate.id)));
      }
      // "A DeployedModel will be successfully undeployed only if it doesn't have any traffic assigned to
      // it when this method executes, or if this field unassigns any traffic to it" (UndeployModelRequest);
      // the last one may go with its share (the split ends up empty).
      const share = Object.keys(split).length > 0 ? (split[id] ?? 0) : (endpoint.trafficSplit[id] ?? 0);
      if (share > 0 && remaining.length > 0) {
        throw statusError(
          'FAILED_PRECONDITION',
          `Deployed model "${id}" receives ${share}% of traffic; pass a traffic_split for the remaining models.`,
        );
      }
      return context.operations.start({
        resource: endpoint.name,
        method: 'UndeployModel',
        metadataType: `${v1}.UndeployModelOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          const current = findEndpoint(context, endpoint.name);
          current.deployedModels = current.deployedModels.filter((candidate) => candidate.id !== id);
          if (Object.keys(split).length > 0) current.trafficSplit = { ...split };
          else {
            const { [id]: _removed, ...rest } = current.trafficSplit;
            current.trafficSplit = rest;
          }
          touch(context, current);
          for (const versions of state.models.values()) {
            for (const version of versions) {
              version.deployedModels = version.deployedModels.filter(
                (reference) => !(reference.endpoint === current.name && reference.deployedModelId === id),
              );
            }
          }
          recordReplicas(current, deployed, 0);
          return { type: `${v1}.UndeployModelResponse`, message: {} };
        },
      });
    },
    MutateDeployedModel(request) {
      const endpoint = findEndpoint(context, requiredString(request, 'endpoint'));
      const input = (request.deployedModel ?? {}) as Wire;
      const deployed = endpoint.deployedModels.find((candidate) => candidate.id === input.id);
      if (!deployed)
        throw statusError(
          'NOT_FOUND',
          `Deployed model "${String(input.id)}" not found on "${endpoint.name}".`,
        );
      requireIdle(context, endpoint.name, 'MutateDeployedModel');
      const paths = (request.updateMask as { paths?: string[] } | undefined)?.paths ?? [];
      const allowed: Record<string, string> = {
        'dedicated_resources.min_replica_count': 'minReplicaCount',
        'dedicated_resources.max_replica_count': 'maxReplicaCount',
        'dedicated_resources.autoscaling_metric_specs': 'autoscalingMetricSpecs',
      };
      if (paths.length === 0) throw statusError('INVALID_ARGUMENT', 'Field "update_mask" is required.');
      const changes = (input.dedicatedResources ?? {}) as Record<string, unknown>;
      const next = { ...deployed.dedicatedResources };
      for (const path of paths) {
        const field = allowed[path];
        if (!field) throw statusError('INVALID_ARGUMENT', `Field "${path}" cannot be mutated.`);
        (next as Record<string, unknown>)[field] =
          changes[field] ?? (field === 'autoscalingMetricSpecs' ? [] : 0);
      }
      checkReplicas(next, 'deployed_model.dedicated_resources');
      return context.operations.start({
        resource: endpoint.name,
        method: 'MutateDeployedModel',
        metadataType: `${v1}.MutateDeployedModelOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          deployed.dedicatedResources = next;
          const current = state.endpoints.get(endpoint.name);
          if (current) touch(context, current);
          recordReplicas(endpoint, deployed, next.minReplicaCount ?? 1);
          return { type: `${v1}.MutateDeployedModelResponse`, message: { deployedModel: deployed } };
        },
      });
    },
  });
}
