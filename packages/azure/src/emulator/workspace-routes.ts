import { resourceNotFound } from './arm-error.js';
import { handleAssets } from './asset-routes.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { handleJobs } from './job-routes.js';
import { handleOnlineEndpoints } from './online-endpoint-routes.js';
import { type ArmResource, key, systemData, type WorkspaceRecord } from './state.js';

const workspacePattern =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)(?:\/(.*))?$/i;

/** The workspace's ARM id. */
export function workspacePath(workspace: WorkspaceRecord): string {
  return workspace.resource.id;
}

/**
 * Routes under `.../workspaces/{ws}`. Any subscription, resource group and workspace exists: it is made
 * on first use, with the default blob datastore.
 */
export function handleWorkspace(
  context: EmulatorContext,
  request: EmulatorRequest,
): EmulatorReply | undefined {
  const match = workspacePattern.exec(request.path);
  if (!match) return undefined;
  const [, subscription = '', resourceGroup = '', workspaceName = '', restPath = ''] = match;
  const workspace = workspaceRecord(context, subscription, resourceGroup, workspaceName);
  const rest = restPath
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeURIComponent);
  const scope = { subscription, workspace };
  const [collection, ...inner] = rest;
  if (collection === undefined) {
    return request.method === 'GET' ? { status: 200, body: workspace.resource } : undefined;
  }
  switch (collection.toLowerCase()) {
    case 'onlineendpoints':
      return handleOnlineEndpoints(context, scope, request, inner);
    case 'jobs':
      return handleJobs(context, scope, request, inner);
    case 'models':
      return handleAssets(context, workspace, workspace.models, 'models', request, inner);
    case 'environments':
      return handleAssets(context, workspace, workspace.environments, 'environments', request, inner);
    case 'datastores':
      return handleDatastores(context, workspace, request, inner);
    default:
      return undefined;
  }
}

function workspaceRecord(
  context: EmulatorContext,
  subscription: string,
  resourceGroup: string,
  name: string,
): WorkspaceRecord {
  const id = `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${name}`;
  const existing = context.state.workspaces.get(key(id));
  if (existing) return existing;
  const timestamp = new Date(context.now()).toISOString();
  const workspace: WorkspaceRecord = {
    resource: {
      id,
      name,
      type: 'Microsoft.MachineLearningServices/workspaces',
      location: context.location,
      tags: {},
      identity: { type: 'SystemAssigned' },
      sku: { name: 'Basic', tier: 'Basic' },
      properties: {
        friendlyName: name,
        provisioningState: 'Succeeded',
        discoveryUrl: `https://${context.location}.api.azureml.ms/discovery`,
        publicNetworkAccess: 'Enabled',
      },
      systemData: systemData(timestamp),
    },
    endpoints: new Map(),
    jobs: new Map(),
    models: new Map(),
    environments: new Map(),
    datastores: new Map(),
  };
  const datastore: ArmResource = {
    id: `${id}/datastores/workspaceblobstore`,
    name: 'workspaceblobstore',
    type: 'Microsoft.MachineLearningServices/workspaces/datastores',
    properties: {
      description: 'The workspace default blob datastore',
      datastoreType: 'AzureBlob',
      accountName: context.storage.accountName,
      containerName: context.storage.containerName,
      endpoint: 'core.windows.net',
      protocol: 'https',
      isDefault: true,
      credentials: { credentialsType: 'AccountKey' },
      tags: {},
      properties: {},
    },
    systemData: systemData(timestamp),
  };
  workspace.datastores.set('workspaceblobstore', datastore);
  context.state.workspaces.set(key(id), workspace);
  return workspace;
}

function handleDatastores(
  context: EmulatorContext,
  workspace: WorkspaceRecord,
  request: EmulatorRequest,
  rest: string[],
): EmulatorReply | undefined {
  const [name, action] = rest;
  if (name === undefined) {
    return request.method === 'GET'
      ? { status: 200, body: { value: [...workspace.datastores.values()] } }
      : undefined;
  }
  const datastore = workspace.datastores.get(key(name));
  if (!datastore) throw resourceNotFound('datastore', name);
  if (action === undefined && request.method === 'GET') return { status: 200, body: datastore };
  if (action === 'listSecrets' && request.method === 'POST') {
    return { status: 200, body: { secretsType: 'AccountKey', key: context.storage.accountKey } };
  }
  return undefined;
}
