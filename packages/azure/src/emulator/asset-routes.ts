import { badArgument, resourceNotFound } from './arm-error.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { type ArmResource, type AssetRecord, key, systemData, type WorkspaceRecord } from './state.js';

const typeNames = {
  models: 'Microsoft.MachineLearningServices/workspaces/models',
  environments: 'Microsoft.MachineLearningServices/workspaces/environments',
};

/** `/models[/{name}[/versions[/{version}]]]` and the same for `/environments`: synchronous PUTs. */
export function handleAssets(
  context: EmulatorContext,
  workspace: WorkspaceRecord,
  assets: Map<string, AssetRecord>,
  kind: 'models' | 'environments',
  request: EmulatorRequest,
  rest: string[],
): EmulatorReply | undefined {
  const [name, versionsSegment, version] = rest;
  const { method } = request;
  if (name === undefined) {
    return method === 'GET'
      ? { status: 200, body: { value: [...assets.values()].map((asset) => withLatest(asset)) } }
      : undefined;
  }
  if (versionsSegment === undefined) {
    if (method === 'GET') {
      const asset = assets.get(key(name));
      if (!asset) throw resourceNotFound(kind === 'models' ? 'model' : 'environment', name);
      return { status: 200, body: withLatest(asset) };
    }
    if (method === 'PUT') {
      const existing = assets.get(key(name));
      const asset = container(context, workspace, assets, kind, name, request.body);
      return { status: existing ? 200 : 201, body: withLatest(asset) };
    }
    if (method === 'DELETE') {
      return assets.delete(key(name)) ? { status: 200 } : { status: 204 };
    }
    return undefined;
  }
  if (versionsSegment !== 'versions') return undefined;
  const asset = assets.get(key(name));
  if (version === undefined) {
    if (method !== 'GET') return undefined;
    if (!asset) return { status: 200, body: { value: [] } };
    let versions = [...asset.versions.values()];
    const orderBy = (request.query.get('$orderBy') ?? '').toLowerCase();
    if (orderBy.startsWith('createdtime')) {
      versions.sort((left, right) => left.createdAtMs - right.createdAtMs);
      if (orderBy.endsWith('desc')) versions.reverse();
    }
    const top = Number(request.query.get('$top') ?? Number.NaN);
    if (Number.isInteger(top) && top > 0) versions = versions.slice(0, top);
    return { status: 200, body: { value: versions.map(({ createdAtMs: _, ...resource }) => resource) } };
  }
  if (method === 'GET') {
    const found = asset?.versions.get(version);
    if (!found)
      throw resourceNotFound(
        kind === 'models' ? 'model version' : 'environment version',
        `${name}:${version}`,
      );
    const { createdAtMs: _, ...resource } = found;
    return { status: 200, body: resource };
  }
  if (method === 'PUT') return putVersion(context, workspace, assets, kind, name, version, request.body);
  if (method === 'DELETE') {
    return asset?.versions.delete(version) ? { status: 200 } : { status: 204 };
  }
  return undefined;
}

function objectBody(value: unknown): { properties: Record<string, unknown> } {
  if (typeof value !== 'object' || value === null) throw badArgument('body: expected an object.');
  const properties = (value as { properties?: unknown }).properties;
  if (typeof properties !== 'object' || properties === null) throw badArgument('properties: required.');
  return { properties: properties as Record<string, unknown> };
}

function container(
  context: EmulatorContext,
  workspace: WorkspaceRecord,
  assets: Map<string, AssetRecord>,
  kind: 'models' | 'environments',
  name: string,
  body: unknown,
): AssetRecord {
  const properties = body === undefined ? {} : objectBody(body).properties;
  const timestamp = new Date(context.now()).toISOString();
  const existing = assets.get(key(name));
  const resource: ArmResource = {
    id: `${workspace.resource.id}/${kind}/${name}`,
    name,
    type: typeNames[kind],
    properties: {
      description: properties.description,
      tags: properties.tags ?? {},
      properties: properties.properties ?? {},
      isArchived: false,
    },
    systemData: systemData(timestamp, existing?.container.systemData),
  };
  const asset = existing ?? { container: resource, versions: new Map() };
  asset.container = resource;
  assets.set(key(name), asset);
  return asset;
}

/** The container with `latestVersion` and `nextVersion`, as the service computes them. */
function withLatest(asset: AssetRecord): ArmResource {
  const numbers = [...asset.versions.keys()].map(Number).filter((value) => Number.isInteger(value));
  const latest = numbers.length > 0 ? Math.max(...numbers) : undefined;
  return {
    ...asset.container,
    properties: {
      ...asset.container.properties,
      ...(latest === undefined ? {} : { latestVersion: String(latest) }),
      nextVersion: String((latest ?? 0) + 1),
    },
  };
}

function putVersion(
  context: EmulatorContext,
  workspace: WorkspaceRecord,
  assets: Map<string, AssetRecord>,
  kind: 'models' | 'environments',
  name: string,
  version: string,
  body: unknown,
): EmulatorReply {
  const { properties } = objectBody(body);
  if (kind === 'models' && (typeof properties.modelUri !== 'string' || properties.modelUri === '')) {
    throw badArgument('properties.modelUri: required.');
  }
  if (kind === 'environments' && typeof properties.image !== 'string' && properties.build === undefined) {
    throw badArgument('properties.image: required (or properties.build).');
  }
  const asset = assets.get(key(name)) ?? container(context, workspace, assets, kind, name, undefined);
  const existing = asset.versions.get(version);
  if (existing && kind === 'models' && existing.properties.modelUri !== properties.modelUri) {
    throw badArgument(
      `Model '${name}' version ${version} exists with another modelUri; versions are immutable.`,
    );
  }
  const now = context.now();
  const resource = {
    id: `${workspace.resource.id}/${kind}/${name}/versions/${version}`,
    name: version,
    type: `${typeNames[kind]}/versions`,
    properties: { ...properties, isAnonymous: false, isArchived: false, provisioningState: 'Succeeded' },
    systemData: systemData(new Date(now).toISOString(), existing?.systemData),
    createdAtMs: existing?.createdAtMs ?? now,
  };
  asset.versions.set(version, resource);
  const { createdAtMs: _, ...reply } = resource;
  return { status: existing ? 200 : 201, body: reply };
}
