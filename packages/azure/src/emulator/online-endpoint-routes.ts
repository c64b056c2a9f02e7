import { ArmError, badArgument, resourceNotFound } from './arm-error.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { matchesFilter } from './faults.js';
import { asyncOperationHeaders, locationHeaders, startOperation } from './operations.js';
import {
  type ArmResource,
  type DeploymentRecord,
  type EndpointRecord,
  key,
  newSecret,
  systemData,
  type WorkspaceRecord,
} from './state.js';
import { workspacePath } from './workspace-routes.js';

const endpointType = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
const deploymentType = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments';
const authModes = new Set(['key', 'amltoken', 'aadtoken']);
const namePattern = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

type Scope = { subscription: string; workspace: WorkspaceRecord };

/** Routes under `.../workspaces/{ws}/onlineEndpoints`. `rest` starts after `onlineEndpoints`. */
export function handleOnlineEndpoints(
  context: EmulatorContext,
  scope: Scope,
  request: EmulatorRequest,
  rest: string[],
): EmulatorReply | undefined {
  const { method } = request;
  const [endpointName, action, deploymentName, deploymentAction] = rest;
  if (endpointName === undefined) {
    if (method !== 'GET') return undefined;
    const value = [...scope.workspace.endpoints.values()].map((endpoint) => endpoint.resource);
    return { status: 200, body: { value } };
  }
  if (action === undefined) {
    if (method === 'GET') return { status: 200, body: findEndpoint(scope, endpointName).resource };
    if (method === 'PUT') return putEndpoint(context, scope, endpointName, request.body);
    if (method === 'PATCH') return patchEndpoint(context, scope, endpointName, request.body);
    if (method === 'DELETE') return deleteEndpoint(context, scope, endpointName);
    return undefined;
  }
  if (method === 'POST' && action === 'listKeys') return listKeys(scope, endpointName);
  if (method === 'POST' && action === 'token') return token(context, scope, endpointName);
  if (method === 'POST' && action === 'regenerateKeys') {
    return regenerateKeys(context, scope, endpointName, request.body);
  }
  if (action !== 'deployments') return undefined;
  const endpoint = findEndpoint(scope, endpointName);
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

export function findEndpoint(scope: Scope, name: string): EndpointRecord {
  const endpoint = scope.workspace.endpoints.get(key(name));
  if (!endpoint) throw resourceNotFound('online endpoint', name);
  return endpoint;
}

function findDeployment(endpoint: EndpointRecord, name: string): DeploymentRecord {
  const deployment = endpoint.deployments.get(key(name));
  if (!deployment) throw resourceNotFound('online deployment', name);
  return deployment;
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badArgument(`${what}: expected an object.`);
  }
  return value as Record<string, unknown>;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const map = objectOf(value, what);
  for (const [name, item] of Object.entries(map)) {
    if (typeof item !== 'string') throw badArgument(`${what}.${name}: expected a string.`);
  }
  return map as Record<string, string>;
}

function settleDelay(context: EmulatorContext, base: number): number {
  const slow = context.faults.take('slow');
  return base + (slow?.extraMs ?? 0);
}

function provisioningState(resource: ArmResource): string {
  return String(resource.properties.provisioningState ?? 'Succeeded');
}

function putEndpoint(context: EmulatorContext, scope: Scope, name: string, input: unknown): EmulatorReply {
  if (!namePattern.test(name)) {
    throw badArgument(`Endpoint name '${name}' must be 3-32 letters, digits or '-', starting with a letter.`);
  }
  const body = objectOf(input, 'body');
  const properties = objectOf(body.properties, 'properties');
  if (typeof body.location !== 'string' || body.location === '') throw badArgument('location: required.');
  const authMode = String(properties.authMode ?? '');
  if (!authModes.has(authMode.toLowerCase())) {
    throw badArgument(`properties.authMode: expected Key, AMLToken or AADToken, got '${authMode}'.`);
  }
  const publicNetworkAccess = String(properties.publicNetworkAccess ?? 'Enabled');
  if (publicNetworkAccess !== 'Enabled' && publicNetworkAccess !== 'Disabled') {
    throw badArgument('properties.publicNetworkAccess: expected Enabled or Disabled.');
  }
  const existing = scope.workspace.endpoints.get(key(name));
  if (existing?.deletingAt !== undefined) {
    throw new ArmError(409, 'Conflict', `Endpoint '${name}' is being deleted.`);
  }
  const traffic = validateTraffic(existing, properties.traffic);
  const now = context.now();
  const timestamp = new Date(now).toISOString();
  const id = `${workspacePath(scope.workspace)}/onlineEndpoints/${name}`;
  const resource: ArmResource = {
    id,
    name: existing?.resource.name ?? name,
    type: endpointType,
    location: body.location,
    tags: stringMap(body.tags, 'tags'),
    kind: typeof body.kind === 'string' ? body.kind : 'Managed',
    identity: {
      type: 'SystemAssigned',
      principalId: '00000000-0000-0000-0000-00000000e1d0',
      tenantId: '00000000-0000-0000-0000-0000000000aa',
    },
    properties: {
      description: typeof properties.description === 'string' ? properties.description : undefined,
      properties: stringMap(properties.properties, 'properties.properties'),
      authMode,
      publicNetworkAccess,
      traffic,
      scoringUri: `https://${key(name)}.${context.location}.inference.ml.azure.com/score`,
      swaggerUri: `https://${key(name)}.${context.location}.inference.ml.azure.com/swagger.json`,
      provisioningState: existing ? 'Updating' : 'Creating',
    },
    systemData: systemData(timestamp, existing?.resource.systemData),
  };
  const endpoint: EndpointRecord = existing ?? {
    resource,
    keys: { primaryKey: newSecret(), secondaryKey: newSecret() },
    token: newSecret(),
    deployments: new Map(),
    routingWeights: new Map(),
  };
  endpoint.resource = resource;
  endpoint.pending = { settleAt: now + settleDelay(context, context.delays.provisioningMs), to: 'Succeeded' };
  scope.workspace.endpoints.set(key(name), endpoint);
  const operationId = startOperation(context, () => {
    const current = scope.workspace.endpoints.get(key(name));
    if (current !== endpoint)
      return { state: 'failed', error: { code: 'Canceled', message: 'The endpoint was deleted.' } };
    const state = provisioningState(endpoint.resource);
    if (state === 'Succeeded') return { state: 'succeeded' };
    if (state === 'Failed')
      return { state: 'failed', error: { code: 'EndpointFailed', message: 'The endpoint failed.' } };
    return { state: 'running' };
  });
  return {
    status: existing ? 200 : 201,
    headers: asyncOperationHeaders(context, scope.subscription, operationId),
    body: endpoint.resource,
  };
}

/** Traffic names existing, provisioned deployments; percentages are whole numbers summing to 0 or 100. */
function validateTraffic(endpoint: EndpointRecord | undefined, input: unknown): Record<string, number> {
  if (input === undefined || input === null) return {};
  const traffic = objectOf(input, 'properties.traffic');
  let total = 0;
  const result: Record<string, number> = {};
  for (const [name, value] of Object.entries(traffic)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
      throw badArgument(`properties.traffic.${name}: expected a whole percentage from 0 to 100.`);
    }
    const deployment = endpoint?.deployments.get(key(name));
    if (!deployment || deployment.deletingAt !== undefined) {
      throw badArgument(`properties.traffic: deployment '${name}' does not exist under this endpoint.`);
    }
    if (value > 0 && provisioningState(deployment.resource) !== 'Succeeded') {
      throw badArgument(
        `properties.traffic: deployment '${name}' is ${provisioningState(deployment.resource)}; traffic can only go to a Succeeded deployment.`,
      );
    }
    total += value;
    result[deployment.resource.name] = value;
  }
  if (total !== 0 && total !== 100) {
    throw badArgument(`properties.traffic: percentages must add up to 0 or 100, got ${total}.`);
  }
  return result;
}

function patchEndpoint(context: EmulatorContext, scope: Scope, name: string, input: unknown): EmulatorReply {
  const endpoint = findEndpoint(scope, name);
  const body = objectOf(input, 'body');
  if (body.tags !== undefined) endpoint.resource.tags = stringMap(body.tags, 'tags');
  return startPatch(context, scope, endpoint, 'Updating');
}

/**
 * A PATCH in progress: `state` until the provisioning delay passes, answered 202 with a `Location` whose
 * final 200 carries the resource.
 */
function startPatch(
  context: EmulatorContext,
  scope: Scope,
  record: EndpointRecord | DeploymentRecord,
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

function deleteEndpoint(context: EmulatorContext, scope: Scope, name: string): EmulatorReply {
  const endpoint = scope.workspace.endpoints.get(key(name));
  if (!endpoint) return { status: 204 };
  if (endpoint.deletingAt === undefined) {
    endpoint.deletingAt = context.now() + settleDelay(context, context.delays.deletionMs);
    endpoint.pending = undefined;
    endpoint.resource.properties.provisioningState = 'Deleting';
  }
  const operationId = startOperation(context, () =>
    scope.workspace.endpoints.get(key(name)) === endpoint ? { state: 'running' } : { state: 'succeeded' },
  );
  return { status: 202, headers: locationHeaders(context, scope.subscription, operationId) };
}

function listKeys(scope: Scope, name: string): EmulatorReply {
  const endpoint = findEndpoint(scope, name);
  if (String(endpoint.resource.properties.authMode).toLowerCase() !== 'key') {
    throw badArgument(`Endpoint '${name}' does not use key authentication.`);
  }
  return { status: 200, body: { ...endpoint.keys } };
}

function token(context: EmulatorContext, scope: Scope, name: string): EmulatorReply {
  const endpoint = findEndpoint(scope, name);
  if (String(endpoint.resource.properties.authMode).toLowerCase() !== 'amltoken') {
    throw badArgument(`Endpoint '${name}' does not use AMLToken authentication.`);
  }
  const now = Math.floor(context.now() / 1000);
  return {
    status: 200,
    body: {
      accessToken: endpoint.token,
      tokenType: 'Bearer',
      expiryTimeUtc: now + 3600,
      refreshAfterTimeUtc: now + 1800,
    },
  };
}

function regenerateKeys(context: EmulatorContext, scope: Scope, name: string, input: unknown): EmulatorReply {
  const endpoint = findEndpoint(scope, name);
  const body = objectOf(input, 'body');
  const keyType = String(body.keyType ?? '');
  const value = typeof body.keyValue === 'string' && body.keyValue !== '' ? body.keyValue : newSecret();
  if (keyType === 'Primary') endpoint.keys.primaryKey = value;
  else if (keyType === 'Secondary') endpoint.keys.secondaryKey = value;
  else throw badArgument('keyType: expected Primary or Secondary.');
  const operationId = startOperation(context, () => ({ state: 'succeeded' }));
  return { status: 202, headers: locationHeaders(context, scope.subscription, operationId) };
}

function putDeployment(
  context: EmulatorContext,
  scope: Scope,
  endpoint: EndpointRecord,
  name: string,
  input: unknown,
): EmulatorReply {
  if (!namePattern.test(name)) {
    throw badArgument(
      `Deployment name '${name}' must be 3-32 letters, digits or '-', starting with a letter.`,
    );
  }
  if (endpoint.deletingAt !== undefined)
    throw new ArmError(409, 'Conflict', 'The endpoint is being deleted.');
  const body = objectOf(input, 'body');
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
  const now = context.now();
  const timestamp = new Date(now).toISOString();
  const failure = context.faults.take('failProvisioning', (fault) => matchesFilter(fault.deployment, name));
  const resource: ArmResource = {
    id: `${endpoint.resource.id}/deployments/${name}`,
    name: existing?.resource.name ?? name,
    type: deploymentType,
    location: body.location,
    tags: stringMap(body.tags, 'tags'),
    kind: 'Managed',
    sku: { name: String(sku.name ?? 'Default'), tier: 'Standard', capacity },
    properties: {
      ...properties,
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
  let state = 'Updating';
  if (body.sku !== undefined) {
    const sku = objectOf(body.sku, 'sku');
    const capacity = sku.capacity;
    if (capacity !== undefined) {
      if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > 20) {
        throw badArgument('sku.capacity: expected a whole number of instances from 1 to 20.');
      }
      deployment.resource.sku = { ...(deployment.resource.sku ?? { name: 'Default' }), capacity };
      state = 'Scaling';
    }
  }
  if (body.tags !== undefined) deployment.resource.tags = stringMap(body.tags, 'tags');
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
