import { createHash } from 'node:crypto';
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import type { DeploymentSpec } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import type { AzureDeploymentOptions } from './deployment-options.js';
import type { DeploymentTarget } from './deployment-targets.js';
import { managedByValue, serverEnvironmentName, tagNames } from './resource-names.js';

const authModes = { key: 'Key', amlToken: 'AMLToken', aadToken: 'AADToken' } as const;

/** The endpoint's authentication mode for a spec, as Azure spells it. */
export function authModeFor(context: AdapterContext, options: AzureDeploymentOptions): string {
  return authModes[options.authMode ?? context.settings.authMode];
}

/** The endpoint's public network access for a spec. */
export function publicNetworkAccessFor(spec: DeploymentSpec): 'Enabled' | 'Disabled' {
  return spec.network?.private ? 'Disabled' : 'Enabled';
}

/**
 * A full endpoint PUT body: auth, network access, traffic, and the tags and `properties` the endpoint
 * has (a PUT replaces tags, and properties can never be removed or altered), so only what is meant to
 * change changes.
 */
export function endpointBody(
  context: AdapterContext,
  spec: DeploymentSpec,
  options: AzureDeploymentOptions,
  current: { location: string; tags: Record<string, string>; properties: Record<string, string> },
  traffic: Record<string, number>,
): OnlineEndpoint {
  return {
    location: current.location,
    kind: 'Managed',
    identity: { type: 'SystemAssigned' },
    tags: current.tags,
    properties: {
      authMode: authModeFor(context, options),
      publicNetworkAccess: publicNetworkAccessFor(spec),
      description: `mlscale deployment ${spec.name}`,
      properties: current.properties,
      traffic,
    },
  };
}

/** What the server environment of one endpoint's model holds, and the version that names it. */
function serverEnvironment(context: AdapterContext, modelName: string) {
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
  return { inferenceConfig, version };
}

/** The ARM id of the environment a target's deployment runs (`ensureServerEnvironment` writes it). */
export function serverEnvironmentId(context: AdapterContext, endpoint: string, modelName: string): string {
  const { version } = serverEnvironment(context, modelName);
  return `${context.workspaceId}/environments/${serverEnvironmentName(endpoint)}/versions/${version}`;
}

/**
 * Writes the environment that runs the mlscale server image as a custom container, with Azure's
 * liveness, readiness and scoring routes on the server's Open Inference Protocol (V2) routes. One per
 * endpoint (tagged with it, so deleting the endpoint finds it); its version is a hash of what it holds,
 * so writing it again changes nothing.
 */
export async function ensureServerEnvironment(
  context: AdapterContext,
  endpoint: string,
  modelName: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { settings } = context;
  const { inferenceConfig, version } = serverEnvironment(context, modelName);
  const name = serverEnvironmentName(endpoint);
  await context.call(
    `Writing environment ${name}:${version}`,
    (clients) =>
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
            tags: { [tagNames.managedBy]: managedByValue, [tagNames.endpoint]: endpoint },
          },
        },
        { abortSignal: signal },
      ),
    signal,
  );
}

function isoMilliseconds(milliseconds: number): string {
  return `PT${milliseconds / 1000}S`;
}

/** The instance count a new deployment starts with: the spec's, inside the autoscaling bounds, at least 1. */
export function initialCapacity(spec: DeploymentSpec): number {
  const policy = spec.autoscaling;
  const replicas = policy
    ? Math.min(policy.maxReplicas, Math.max(policy.minReplicas, spec.replicas))
    : spec.replicas;
  return Math.max(1, replicas);
}

/**
 * The deployment PUT body for one model version. `spec` is the spec whose environment the container
 * gets: unsealed for a PUT, sealed when the body is only compared with what Azure has.
 */
export function deploymentBody(
  context: AdapterContext,
  spec: DeploymentSpec,
  options: AzureDeploymentOptions,
  target: DeploymentTarget,
  location: string,
  capacity: number,
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
    sku: { name: 'Default', capacity },
    tags: {
      [tagNames.managedBy]: managedByValue,
      [tagNames.model]: `${target.modelName}:${target.version}`,
      [tagNames.modelReference]: target.referenceKey,
    },
    properties: {
      endpointComputeType: 'Managed',
      model: target.assetId,
      instanceType,
      environmentId: options.environmentId ?? serverEnvironmentId(context, spec.name, target.modelName),
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
