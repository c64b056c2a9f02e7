import { createHash } from 'node:crypto';
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { type DeploymentSpec, MlscaleError, type ModelReference, specHash } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import type { AzureDeploymentOptions } from './deployment-options.js';
import { assertAzureReadable, hashArtifact, localPathOf } from './model-artifacts.js';
import { modelAssetId, registerModel } from './model-operations.js';
import { deploymentNameFor, managedByValue, propertyNames, tagNames } from './resource-names.js';
import { provider } from './to-mlscale-error.js';

/** One Azure deployment a spec asks for, and its share of traffic. */
export interface DeploymentTarget {
  deploymentName: string;
  modelName: string;
  version: string;
  /** The model version's ARM id. */
  assetId: string;
  weight: number;
}

const authModes = { key: 'Key', amlToken: 'AMLToken', aadToken: 'AADToken' } as const;

/** The region new endpoints go to: the setting, else the workspace's own (read once). */
export function locationResolver(context: AdapterContext): (signal?: AbortSignal) => Promise<string> {
  let location: Promise<string> | undefined;
  return (signal) => {
    if (context.settings.location) return Promise.resolve(context.settings.location);
    location ??= context
      .call('Reading the workspace', (clients) =>
        clients.machineLearning.workspaces.get(context.settings.resourceGroup, context.settings.workspace, {
          abortSignal: signal,
        }),
      )
      .then((workspace) => workspace.location ?? 'eastus')
      .catch((error: unknown) => {
        location = undefined;
        throw error;
      });
    return location;
  };
}

/** The model versions a spec serves, registered (local artifacts uploaded) as needed, with weights. */
export async function resolveTargets(
  context: AdapterContext,
  spec: DeploymentSpec,
  signal: AbortSignal | undefined,
): Promise<DeploymentTarget[]> {
  const entries = spec.traffic ?? [{ model: spec.model, weight: 100 }];
  const targets: DeploymentTarget[] = [];
  for (const [index, entry] of entries.entries()) {
    const field = spec.traffic ? `traffic[${index}].model` : 'model';
    const { modelName, version } = await resolveModel(context, spec.name, entry.model, field, signal);
    const deploymentName = deploymentNameFor(modelName, version);
    const existing = targets.find((target) => target.deploymentName === deploymentName);
    if (existing) existing.weight += entry.weight;
    else {
      targets.push({
        deploymentName,
        modelName,
        version,
        assetId: modelAssetId(context, modelName, version),
        weight: entry.weight,
      });
    }
  }
  return targets;
}

async function resolveModel(
  context: AdapterContext,
  endpointName: string,
  model: ModelReference,
  field: string,
  signal: AbortSignal | undefined,
): Promise<{ modelName: string; version: string }> {
  const { settings } = context;
  if ('name' in model) {
    if (model.version !== 'latest') {
      const found = await context.find(`Reading model '${model.name}' version ${model.version}`, (clients) =>
        clients.machineLearning.modelVersions.get(
          settings.resourceGroup,
          settings.workspace,
          model.name,
          String(model.version),
          {
            abortSignal: signal,
          },
        ),
      );
      if (!found) throw notRegistered(`${model.name} version ${model.version}`, field);
      return { modelName: model.name, version: String(model.version) };
    }
    const container = await context.find(`Reading model '${model.name}'`, (clients) =>
      clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, model.name, {
        abortSignal: signal,
      }),
    );
    const latest = container?.properties.latestVersion;
    if (!latest) throw notRegistered(model.name, field);
    return { modelName: model.name, version: latest };
  }
  // An artifact: registered under the endpoint's name, once per distinct content or URI.
  assertAzureReadable(model.uri, `${field}.uri`);
  const localPath = localPathOf(model.uri);
  const sha256 = localPath === undefined ? undefined : (await hashArtifact(localPath, `${field}.uri`)).sha256;
  const clients = await context.call('Listing model versions', async (resolved) => resolved);
  try {
    for await (const version of clients.machineLearning.modelVersions.list(
      settings.resourceGroup,
      settings.workspace,
      endpointName,
      {
        abortSignal: signal,
      },
    )) {
      const sameContent = sha256 !== undefined && version.properties.tags?.[tagNames.sha256] === sha256;
      const sameUri = sha256 === undefined && version.properties.modelUri === model.uri;
      if ((sameContent || sameUri) && version.name) return { modelName: endpointName, version: version.name };
    }
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  const registered = await registerModel(
    context,
    { name: endpointName, path: model.uri, format: model.format, metadata: {}, lineage: {} },
    signal,
  );
  return { modelName: endpointName, version: String(registered.version) };
}

function notRegistered(what: string, field: string): MlscaleError {
  return new MlscaleError({
    code: 'NotFound',
    provider,
    message: `Model ${what} is not registered in the workspace (${field}). Register it with models.register first.`,
  });
}

/**
 * The environment that runs the mlscale server image as a custom container for one model, with Azure's
 * liveness, readiness and scoring routes on the server's Open Inference Protocol (V2) routes. Its version
 * is a hash of what it holds, so it is written once and reused.
 */
export async function ensureServerEnvironment(
  context: AdapterContext,
  modelName: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { settings } = context;
  const port = settings.serverPort;
  const inferenceConfig = {
    livenessRoute: { path: '/v2/health/live', port },
    readinessRoute: { path: '/v2/health/ready', port },
    scoringRoute: { path: `/v2/models/${modelName}/infer`, port },
  };
  const version = createHash('sha256')
    .update(JSON.stringify({ image: settings.serverImage, inferenceConfig }))
    .digest('hex')
    .slice(0, 16);
  const name = 'mlscale-server';
  await context.call(`Writing environment ${name}:${version}`, (clients) =>
    clients.machineLearning.environmentVersions.createOrUpdate(
      settings.resourceGroup,
      settings.workspace,
      name,
      version,
      {
        properties: {
          image: settings.serverImage,
          osType: 'Linux',
          inferenceConfig,
          description: 'The mlscale server (Open Inference Protocol V2) as a custom container',
          tags: { [tagNames.managedBy]: managedByValue },
        },
      },
      { abortSignal: signal },
    ),
  );
  return `${context.workspaceId}/environments/${name}/versions/${version}`;
}

/** The endpoint PUT body: auth, network access, the spec kept in its properties, and a traffic map. */
export function endpointBody(
  context: AdapterContext,
  spec: DeploymentSpec,
  options: AzureDeploymentOptions,
  location: string,
  traffic: Record<string, number>,
): OnlineEndpoint {
  return {
    location,
    kind: 'Managed',
    identity: { type: 'SystemAssigned' },
    tags: { ...spec.tags, [tagNames.managedBy]: managedByValue, [tagNames.specHash]: specHash(spec) },
    properties: {
      authMode: authModes[options.authMode ?? context.settings.authMode],
      publicNetworkAccess: spec.network?.private ? 'Disabled' : 'Enabled',
      description: `mlscale deployment ${spec.name}`,
      properties: { [propertyNames.spec]: JSON.stringify(spec) },
      traffic,
    },
  };
}

function isoMilliseconds(milliseconds: number): string {
  return `PT${milliseconds / 1000}S`;
}

/** The deployment PUT body for one model version. */
export function deploymentBody(
  context: AdapterContext,
  spec: DeploymentSpec,
  options: AzureDeploymentOptions,
  target: DeploymentTarget,
  environmentId: string,
  location: string,
): OnlineDeployment {
  const { settings } = context;
  const instanceType =
    spec.instance?.type ??
    (spec.instance?.accelerator ? settings.defaultGpuInstanceType : settings.defaultInstanceType);
  const probe = {
    initialDelay: 'PT10S',
    period: 'PT10S',
    timeout: 'PT2S',
    failureThreshold: 30,
    successThreshold: 1,
  };
  return {
    location,
    kind: 'Managed',
    sku: { name: 'Default', capacity: Math.max(1, spec.replicas) },
    tags: { [tagNames.managedBy]: managedByValue, [tagNames.model]: `${target.modelName}:${target.version}` },
    properties: {
      endpointComputeType: 'Managed',
      model: target.assetId,
      instanceType,
      environmentId,
      environmentVariables: {
        ...spec.environment,
        MLSCALE_MODEL_NAME: target.modelName,
        MLSCALE_MODEL_VERSION: target.version,
        ...(spec.batching ? { MLSCALE_BATCHING: JSON.stringify(spec.batching) } : {}),
      },
      requestSettings: {
        ...(options.requestTimeoutMs ? { requestTimeout: isoMilliseconds(options.requestTimeoutMs) } : {}),
        ...(options.maxQueueWaitMs ? { maxQueueWait: isoMilliseconds(options.maxQueueWaitMs) } : {}),
        maxConcurrentRequestsPerInstance:
          options.maxConcurrentRequestsPerInstance ?? spec.batching?.maxBatchSize ?? 1,
      },
      livenessProbe: probe,
      readinessProbe: probe,
      appInsightsEnabled: options.appInsightsEnabled ?? false,
      scaleSettings: { scaleType: 'Default' },
    } as OnlineDeployment['properties'],
  };
}
