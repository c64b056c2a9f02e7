import { ArmError, badArgument, resourceNotFound } from './arm-error.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { matchesFilter } from './faults.js';
import { asyncOperationHeaders, locationHeaders, startOperation } from './operations.js';
import { provisioningState, settleDelay } from './provisioning.js';
import { objectOf, stringMap } from './request-body.js';
import {
  assertEndpointReady,
  assertNoOperationInProgress,
  assertOnlineName,
  assertPropertiesKept,
  assertTags,
} from './resource-rules.js';
import {
  type ArmResource,
  type DeploymentRecord,
  type EndpointRecord,
  key,
  systemData,
  type WorkspaceRecord,
} from './state.js';
import { workspacePath } from './workspace-routes.js';

const deploymentType = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments';

type Scope = { subscription: string; workspace: WorkspaceRecord };

/**
 * Routes under `.../onlineEndpoints/{ep}/deployments`: a deployment is written only while its endpoint is
 * Succeeded, provisions as a long-running operation (or fails, with the reason in its container log),
 * scales by PATCH, and cannot be deleted while it has traffic. `rest` starts after `deployments`.
 */
export function handleOnlineDeployments(
  context: EmulatorContext,
  scope: Scope,
  endpoint: EndpointRecord,
  request: EmulatorRequest,
  rest: (string | undefined)[],
): EmulatorReply | undefined {
  const { method } = request;
  const [deploymentName, deploymentAction] = rest;
  if (deploymentName === undefined) {
    if (method !== 'GET') return undefined;
    return { status: 200, body: { value: [...endpoint.deployments.values()].map((item) => item.resource) } };
  }
  if (deploymentAction === undefined) {
    if (method === 'GET') return { status: 200, body: findDeployment(endpoint, deploymentName).resource };
    if (method === 'PUT') return putDeployment(context, scope, endpoint, deploymentName, request.body);
    if (method === 'PATCH') return patchDeployment(context, scope, endpoint, deploymentName, request.body);
    if (method === 'DELETE') return deleteDeployment(context, scope, endpoint, deploymentName);
    return undefined;
  }
  if (method === 'POST' && deploymentAction === 'getLogs') {
    return getLogs(findDeployment(endpoint, deploymentName), request.body);
  }
  if (method === 'GET' && deploymentAction === 'skus') {
    findDeployment(endpoint, deploymentName);
    return {
      status: 200,
      body: {
        value: [
          {
            resourceType: deploymentType,
            sku: { name: 'Default', tier: 'Standard' },
            capacity: { minimum: 1, maximum: 20, default: 1, scaleType: 'Manual' },
          },
        ],
      },
    };
  }
  return undefined;
}

function findDeployment(endpoint: EndpointRecord, name: string): DeploymentRecord {
  const deployment = endpoint.deployments.get(key(name));
  if (!deployment) throw resourceNotFound('online deployment', name);
  return deployment;
}

/**
 * A PATCH in progress: `state` until the provisioning delay passes, answered 202 with a `Location` whose
 * final 200 carries the resource.
 */
function startPatch(
  context: EmulatorContext,
  scope: Scope,
  record: DeploymentRecord,
  state: string,
): EmulatorReply {
  record.resource.properties.provisioningState = state;
  record.resource.systemData = systemData(new Date(context.now()).toISOString(), record.resource.systemData);
  record.pending = {
    settleAt: context.now() + settleDelay(context, context.delays.provisioningMs),
    to: 'Succeeded',
  };
  const operationId = startOperation(context, () =>
    provisioningState(record.resource) === 'Succeeded'
      ? { state: 'succeeded', body: record.resource }
      : { state: 'running' },
  );
  return { status: 202, headers: locationHeaders(context, scope.subscription, operationId) };
}

function putDeployment(
  context: EmulatorContext,
  scope: Scope,
  endpoint: EndpointRecord,
  name: string,
  input: unknown,
): EmulatorReply {
  assertOnlineName('Deployment', name);
  if (endpoint.deletingAt !== undefined)
    throw new ArmError(409, 'Conflict', 'The endpoint is being deleted.');
  assertEndpointReady(endpoint.resource.name, provisioningState(endpoint.resource));
  const body = objectOf(input, 'body');
  const tags = stringMap(body.tags, 'tags');
  assertTags(tags);
  const properties = objectOf(body.properties, 'properties');
  if (typeof body.location !== 'string' || body.location === '') throw badArgument('location: required.');
  if (properties.endpointComputeType !== 'Managed') {
    throw badArgument(
      'properties.endpointComputeType: expected Managed (this emulator runs managed deployments).',
    );
  }
  const sku = body.sku === undefined ? { name: 'Default', capacity: 1 } : objectOf(body.sku, 'sku');
  const capacity = sku.capacity === undefined ? 1 : sku.capacity;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > 20) {
    throw badArgument('sku.capacity: expected a whole number of instances from 1 to 20.');
  }
  const model = properties.model;
  if (model !== undefined && typeof model !== 'string')
    throw badArgument('properties.model: expected an asset id.');
  if (typeof model === 'string') assertModelExists(scope, model);
  const existing = endpoint.deployments.get(key(name));
  if (existing?.deletingAt !== undefined)
    throw new ArmError(409, 'Conflict', `Deployment '${name}' is being deleted.`);
  const deploymentProperties = stringMap(properties.properties, 'properties.properties');
  if (existing) {
    assertPropertiesKept(
      `Deployment '${name}'`,
      (existing.resource.properties.properties ?? {}) as Record<string, string>,
      deploymentProperties,
    );
  }
  // The request is valid; whether it may run now is the resource's state.
  if (existing) assertNoOperationInProgress(existing.resource.id, provisioningState(existing.resource));
  const now = context.now();
  const timestamp = new Date(now).toISOString();
  const failure = context.faults.take('failProvisioning', (fault) => matchesFilter(fault.deployment, name));
  const resource: ArmResource = {
    id: `${endpoint.resource.id}/deployments/${name}`,
    name: existing?.resource.name ?? name,
    type: deploymentType,
    location: body.location,
    tags,
    kind: 'Managed',
    sku: { name: String(sku.name ?? 'Default'), tier: 'Standard', capacity },
    properties: {
      ...properties,
      properties: deploymentProperties,
      environmentVariables: stringMap(properties.environmentVariables, 'properties.environmentVariables'),
      scaleSettings: properties.scaleSettings ?? { scaleType: 'Default' },
      provisioningState: existing ? 'Updating' : 'Creating',
    },
    systemData: systemData(timestamp, existing?.resource.systemData),
  };
  const deployment: DeploymentRecord = existing ?? {
    resource,
    storageInitializerLog: [],
    inferenceServerLog: [],
  };
  deployment.resource = resource;
  deployment.error = undefined;
  deployment.pending = {
    settleAt: now + settleDelay(context, context.delays.provisioningMs),
    to: failure ? 'Failed' : 'Succeeded',
    ...(failure
      ? {
          error: {
            code: failure.code ?? 'ResourceNotReady',
            message:
              failure.message ??
              'User container has crashed or terminated: the liveness probe failed. Check the deployment logs.',
          },
        }
      : {}),
  };
  writeStartupLogs(deployment, endpoint, now, failure?.message);
  endpoint.deployments.set(key(name), deployment);
  const operationId = startOperation(context, () => {
    if (endpoint.deployments.get(key(name)) !== deployment) {
      return { state: 'failed', error: { code: 'Canceled', message: 'The deployment was deleted.' } };
    }
    const state = provisioningState(deployment.resource);
    if (state === 'Succeeded') return { state: 'succeeded' };
    if (state === 'Failed') {
      return { state: 'failed', error: deployment.error ?? { code: 'DeploymentFailed', message: 'Failed.' } };
    }
    return { state: 'running' };
  });
  return {
    status: existing ? 200 : 201,
    headers: asyncOperationHeaders(context, scope.subscription, operationId),
    body: deployment.resource,
  };
}

/** `azureml:/subscriptions/.../models/{name}/versions/{version}` must name a registered version. */
function assertModelExists(scope: Scope, model: string): void {
  const match = /\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(model);
  if (!match || !model.toLowerCase().includes(workspacePath(scope.workspace).toLowerCase())) return;
  const [, name = '', version = ''] = match;
  if (!scope.workspace.models.get(key(name))?.versions.has(version)) {
    throw badArgument(
      `properties.model: model '${name}' version '${version}' is not registered in this workspace.`,
    );
  }
}

function writeStartupLogs(
  deployment: DeploymentRecord,
  endpoint: EndpointRecord,
  now: number,
  failure?: string,
): void {
  const time = new Date(now).toISOString();
  const model = String(deployment.resource.properties.model ?? '(none)');
  deployment.storageInitializerLog.push(
    `${time} Downloading model ${model} to /var/azureml-app/azureml-models`,
    `${time} Model download complete`,
  );
  const environment = String(deployment.resource.properties.environmentId ?? '(none)');
  deployment.inferenceServerLog.push(
    `${time} Starting container from environment ${environment} for ${endpoint.resource.name}/${deployment.resource.name}`,
    failure ? `${time} ERROR ${failure}` : `${time} Liveness and readiness probes succeeded`,
  );
}

function patchDeployment(
  context: EmulatorContext,
  scope: Scope,
  endpoint: EndpointRecord,
  name: string,
  input: unknown,
): EmulatorReply {
  const deployment = findDeployment(endpoint, name);
  const body = objectOf(input, 'body');
  const sku = body.sku === undefined ? {} : objectOf(body.sku, 'sku');
  const capacity = sku.capacity;
  if (
    capacity !== undefined &&
    (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > 20)
  ) {
    throw badArgument('sku.capacity: expected a whole number of instances from 1 to 20.');
  }
  const tags = body.tags === undefined ? undefined : stringMap(body.tags, 'tags');
  if (tags) assertTags(tags);
  // The request is valid; whether it may run now is the resource's state.
  assertNoOperationInProgress(deployment.resource.id, provisioningState(deployment.resource));
  if (typeof capacity === 'number')
    deployment.resource.sku = { ...(deployment.resource.sku ?? { name: 'Default' }), capacity };
  if (tags) deployment.resource.tags = tags;
  const state = typeof capacity === 'number' ? 'Scaling' : 'Updating';
  return startPatch(context, scope, deployment, state);
}

function deleteDeployment(
  context: EmulatorContext,
  scope: Scope,
  endpoint: EndpointRecord,
  name: string,
): EmulatorReply {
  const deployment = endpoint.deployments.get(key(name));
  if (!deployment) return { status: 204 };
  const traffic = (endpoint.resource.properties.traffic ?? {}) as Record<string, number>;
  const share = Object.entries(traffic).find(([item]) => key(item) === key(name))?.[1] ?? 0;
  if (share > 0) {
    throw badArgument(
      `Deployment '${name}' receives ${share}% of the endpoint's traffic; move its traffic before deleting it.`,
    );
  }
  if (deployment.deletingAt === undefined) {
    deployment.deletingAt = context.now() + settleDelay(context, context.delays.deletionMs);
    deployment.pending = undefined;
    deployment.resource.properties.provisioningState = 'Deleting';
  }
  const operationId = startOperation(context, () =>
    endpoint.deployments.get(key(name)) === deployment ? { state: 'running' } : { state: 'succeeded' },
  );
  return { status: 202, headers: locationHeaders(context, scope.subscription, operationId) };
}

function getLogs(deployment: DeploymentRecord, input: unknown): EmulatorReply {
  const body = input === undefined ? {} : objectOf(input, 'body');
  const containerType = String(body.containerType ?? 'InferenceServer');
  let lines: string[];
  if (containerType === 'InferenceServer') lines = deployment.inferenceServerLog;
  else if (containerType === 'StorageInitializer') lines = deployment.storageInitializerLog;
  else throw badArgument('containerType: expected StorageInitializer or InferenceServer.');
  const tail = body.tail;
  if (
    tail !== undefined &&
    (typeof tail !== 'number' || !Number.isInteger(tail) || tail < 0 || tail > 10_000)
  ) {
    throw badArgument('tail: expected a whole number of lines from 0 to 10000.');
  }
  const selected = tail === undefined ? lines : lines.slice(Math.max(0, lines.length - tail));
  return { status: 200, body: { content: selected.join('\n') } };
}
