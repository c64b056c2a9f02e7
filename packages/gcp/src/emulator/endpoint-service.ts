import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp } from './clock.js';
import { checkedParent, type EmulatorContext, requiredString, unaryHandlers } from './context.js';
import { matchesFilter, parseFilter } from './filter.js';
import { statusError } from './grpc-status.js';
import { findModelVersion } from './model-service.js';
import type { StoredDeployedModel, StoredEndpoint, Wire } from './vertex-state.js';

const v1 = 'google.cloud.aiplatform.v1';
const prefix = 'aiplatform.googleapis.com/prediction/online/';
/** Metric names DedicatedResources.autoscaling_metric_specs accepts. */
const autoscalingMetrics = new Set([
  `${prefix}cpu/utilization`,
  `${prefix}accelerator/duty_cycle`,
  `${prefix}request_count`,
]);

export function findEndpoint(context: EmulatorContext, name: string): StoredEndpoint {
  const endpoint = context.state.endpoints.get(name);
  if (!endpoint) throw statusError('NOT_FOUND', `Endpoint "${name}" not found.`);
  return endpoint;
}

/** Checks a traffic split: known ids (or "0" for the model being deployed), percentages summing to 100. */
function checkTrafficSplit(split: Record<string, number>, knownIds: Set<string>): void {
  const entries = Object.entries(split);
  if (entries.length === 0) return;
  let total = 0;
  for (const [id, percent] of entries) {
    if (!knownIds.has(id))
      throw statusError(
        'INVALID_ARGUMENT',
        `Traffic split names deployed model "${id}", which is not on the endpoint.`,
      );
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw statusError(
        'INVALID_ARGUMENT',
        `Traffic split percentage for "${id}" must be an integer from 0 to 100.`,
      );
    }
    total += percent;
  }
  if (total !== 100)
    throw statusError('INVALID_ARGUMENT', `Traffic split percentages must sum to 100, got ${total}.`);
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
      const id =
        typeof request.endpointId === 'string' && request.endpointId ? request.endpointId : context.nextId();
      const name = `${parent}/endpoints/${id}`;
      if (state.endpoints.has(name))
        throw statusError('ALREADY_EXISTS', `Endpoint "${name}" already exists.`);
      return context.operations.start({
        resource: name,
        method: 'CreateEndpoint',
        metadataType: `${v1}.CreateEndpointOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          const now = timestamp();
          const endpoint: StoredEndpoint = {
            ...input,
            name,
            displayName: String(input.displayName),
            labels: (input.labels as Record<string, string>) ?? {},
            deployedModels: [],
            trafficSplit: {},
            createTime: now,
            updateTime: now,
            etag: context.nextId(),
          };
          state.endpoints.set(name, endpoint);
          return { type: `${v1}.Endpoint`, message: endpoint };
        },
      });
    },
    GetEndpoint(request) {
      return findEndpoint(context, requiredString(request, 'name'));
    },
    ListEndpoints(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const clauses = parseFilter(request.filter as string | undefined);
      if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
      const endpoints = [...state.endpoints.values()].filter(
        (endpoint) => endpoint.name.startsWith(`${parent}/`) && matchesFilter(clauses, endpoint),
      );
      return { endpoints, nextPageToken: '' };
    },
    UpdateEndpoint(request) {
      const input = (request.endpoint ?? {}) as Wire;
      const endpoint = findEndpoint(context, String(input.name ?? ''));
      const paths = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map((path) =>
        path.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()),
      );
      if (paths.length === 0) throw statusError('INVALID_ARGUMENT', 'Field "update_mask" is required.');
      const allowed = new Set(['displayName', 'description', 'labels', 'trafficSplit']);
      for (const path of paths) {
        if (!allowed.has(path)) throw statusError('INVALID_ARGUMENT', `Field "${path}" cannot be updated.`);
      }
      if (paths.includes('trafficSplit')) {
        const split = (input.trafficSplit ?? {}) as Record<string, number>;
        checkTrafficSplit(split, new Set(endpoint.deployedModels.map((deployed) => deployed.id)));
      }
      for (const path of paths)
        (endpoint as Wire)[path] = input[path] ?? (path === 'labels' || path === 'trafficSplit' ? {} : '');
      endpoint.updateTime = timestamp();
      endpoint.etag = context.nextId();
      return endpoint;
    },
    DeleteEndpoint(request) {
      const name = requiredString(request, 'name');
      const endpoint = findEndpoint(context, name);
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
      const model = findModelVersion(context, input.model);
      const resources = input.dedicatedResources as StoredDeployedModel['dedicatedResources'];
      checkDedicatedResources(resources, 'deployed_model.dedicated_resources');
      const split = (request.trafficSplit ?? {}) as Record<string, number>;
      checkTrafficSplit(split, new Set(['0', ...endpoint.deployedModels.map((deployed) => deployed.id)]));
      const id = typeof input.id === 'string' && input.id ? input.id : context.nextId();
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
            createTime: timestamp(),
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
          current.updateTime = timestamp();
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
      const remaining = endpoint.deployedModels.filter((candidate) => candidate.id !== id);
      const split = (request.trafficSplit ?? {}) as Record<string, number>;
      if (Object.keys(split).length > 0) {
        checkTrafficSplit(split, new Set(remaining.map((candidate) => candidate.id)));
      } else if ((endpoint.trafficSplit[id] ?? 0) > 0 && remaining.length > 0) {
        throw statusError(
          'FAILED_PRECONDITION',
          `Deployed model "${id}" receives ${endpoint.trafficSplit[id]}% of traffic; pass a traffic_split for the remaining models.`,
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
          current.updateTime = timestamp();
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
          recordReplicas(endpoint, deployed, next.minReplicaCount ?? 1);
          return { type: `${v1}.MutateDeployedModelResponse`, message: { deployedModel: deployed } };
        },
      });
    },
  });
}
