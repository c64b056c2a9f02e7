import { ArmError, badArgument, resourceNotFound } from './arm-error.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { handleOnlineDeployments } from './online-deployment-routes.js';
import { asyncOperationHeaders, locationHeaders, startOperation } from './operations.js';
import { provisioningState, settleDelay } from './provisioning.js';
import { objectOf, stringMap } from './request-body.js';
import {
  assertNoOperationInProgress,
  assertOnlineName,
  assertPropertiesKept,
  assertTags,
  maximumMirrorTraffic,
  mirrorTrafficRefusal,
  trafficSumRefusal,
  trafficValueRefusal,
} from './resource-rules.js';
import {
  type ArmResource,
  type EndpointRecord,
  key,
  newSecret,
  systemData,
  type WorkspaceRecord,
} from './state.js';
import { workspacePath } from './workspace-routes.js';

const endpointType = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
const authModes = new Set(['key', 'amltoken', 'aadtoken']);

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
  return handleOnlineDeployments(context, scope, findEndpoint(scope, endpointName), request, [
    deploymentName,
    deploymentAction,
  ]);
}

export function findEndpoint(scope: Scope, name: string): EndpointRecord {
  const endpoint = scope.workspace.endpoints.get(key(name));
  if (!endpoint) throw resourceNotFound('online endpoint', name);
  return endpoint;
}

function putEndpoint(context: EmulatorContext, scope: Scope, name: string, input: unknown): EmulatorReply {
  assertOnlineName('Endpoint', name);
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
  const mirrorTraffic = validateMirrorTraffic(existing, properties.mirrorTraffic, traffic);
  const tags = stringMap(body.tags, 'tags');
  assertTags(tags);
  const endpointProperties = stringMap(properties.properties, 'properties.properties');
  if (existing) {
    assertPropertiesKept(
      `Endpoint '${name}'`,
      (existing.resource.properties.properties ?? {}) as Record<string, string>,
      endpointProperties,
    );
  }
  // The request is valid; whether it may run now is the resource's state.
  if (existing) assertNoOperationInProgress(existing.resource.id, provisioningState(existing.resource));
  const now = context.now();
  const timestamp = new Date(now).toISOString();
  const id = `${workspacePath(scope.workspace)}/onlineEndpoints/${name}`;
  const resource: ArmResource = {
    id,
    name: existing?.resource.name ?? name,
    type: endpointType,
    location: body.location,
    tags,
    kind: typeof body.kind === 'string' ? body.kind : 'Managed',
    identity: {
      type: 'SystemAssigned',
      principalId: '00000000-0000-0000-0000-00000000e1d0',
      tenantId: '00000000-0000-0000-0000-0000000000aa',
    },
    properties: {
      description: typeof properties.description === 'string' ? properties.description : undefined,
      properties: endpointProperties,
      authMode,
      publicNetworkAccess,
      traffic,
      ...(mirrorTraffic ? { mirrorTraffic } : {}),
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
      throw trafficValueRefusal('traffic', name, value);
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
  if (total !== 0 && total !== 100) throw trafficSumRefusal(total);
  return result;
}

/**
 * Mirror traffic (API 2023-04-01 on; judged here when sent): whole percentages, to one existing
 * deployment that gets no live traffic, adding up to at most 50 (the rules in resource-rules.ts).
 */
function validateMirrorTraffic(
  endpoint: EndpointRecord | undefined,
  input: unknown,
  traffic: Record<string, number>,
): Record<string, number> | undefined {
  if (input === undefined || input === null) return undefined;
  const mirror = objectOf(input, 'properties.mirrorTraffic');
  let total = 0;
  const mirrored: string[] = [];
  for (const [name, value] of Object.entries(mirror)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
      throw trafficValueRefusal('mirrorTraffic', name, value);
    }
    if (!endpoint?.deployments.has(key(name))) {
      throw badArgument(`properties.mirrorTraffic: deployment '${name}' does not exist under this endpoint.`);
    }
    if (value === 0) continue;
    const live = Object.entries(traffic).some(([routed, share]) => key(routed) === key(name) && share > 0);
    if (live) throw mirrorTrafficRefusal('live', name);
    mirrored.push(name);
    total += value;
  }
  if (mirrored.length > 1) throw mirrorTrafficRefusal('deployments', mirrored.join(', '));
  if (total > maximumMirrorTraffic) throw mirrorTrafficRefusal('sum', String(total));
  return mirror as Record<string, number>;
}

/**
 * A PATCH of the endpoint's tags (and identity): metadata, so the endpoint keeps its provisioning state
 * and the operation ends at once (⚠ whether Azure passes through Updating for a tags-only PATCH is not
 * confirmed; the adapter reads the state again before acting either way). Like a PUT, it is refused
 * while an operation runs on the endpoint.
 */
function patchEndpoint(context: EmulatorContext, scope: Scope, name: string, input: unknown): EmulatorReply {
  const endpoint = findEndpoint(scope, name);
  if (endpoint.deletingAt !== undefined)
    throw new ArmError(409, 'Conflict', `Endpoint '${name}' is being deleted.`);
  const body = objectOf(input, 'body');
  const tags = body.tags === undefined ? undefined : stringMap(body.tags, 'tags');
  if (tags) assertTags(tags);
  assertNoOperationInProgress(endpoint.resource.id, provisioningState(endpoint.resource));
  if (tags) endpoint.resource.tags = tags;
  endpoint.resource.systemData = systemData(
    new Date(context.now()).toISOString(),
    endpoint.resource.systemData,
  );
  const operationId = startOperation(context, () => ({ state: 'succeeded', body: endpoint.resource }));
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
