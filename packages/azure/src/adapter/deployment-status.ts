import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import {
  type AutoscalingPolicy,
  type DeploymentSpec,
  type DeploymentState,
  type DeploymentStatus,
  deploymentSpecSchema,
  specHash,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { policyFromSetting } from './autoscale-settings.js';
import { autoscaleSettingName, propertyNames, tagNames } from './resource-names.js';
import { provider, toMlscaleError } from './to-mlscale-error.js';

/** An endpoint with its deployments, as read from ARM. */
export interface EndpointSnapshot {
  endpoint: OnlineEndpoint;
  deployments: OnlineDeployment[];
}

/** Reads an endpoint and its deployments; undefined when there is no endpoint. */
export async function readEndpoint(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<EndpointSnapshot | undefined> {
  const { settings } = context;
  const endpoint = await context.find(`Reading endpoint '${name}'`, (clients) =>
    clients.machineLearning.onlineEndpoints.get(settings.resourceGroup, settings.workspace, name, {
      abortSignal: signal,
    }),
  );
  if (!endpoint) return undefined;
  const deployments: OnlineDeployment[] = [];
  try {
    const clients = await context.clients();
    for await (const deployment of clients.machineLearning.onlineDeployments.list(
      settings.resourceGroup,
      settings.workspace,
      name,
      {
        abortSignal: signal,
      },
    )) {
      deployments.push(deployment);
    }
  } catch (error) {
    // The endpoint may vanish between the two reads while it is being deleted.
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw toMlscaleError(error, `Listing deployments of endpoint '${name}'`);
  }
  return { endpoint, deployments };
}

/** The spec mlscale stored on the endpoint, or one rebuilt from what Azure has (endpoints made elsewhere). */
export function storedSpec(snapshot: EndpointSnapshot): DeploymentSpec {
  const text = snapshot.endpoint.properties.properties?.[propertyNames.spec];
  if (text) {
    try {
      const parsed = deploymentSpecSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // Fall through to the rebuilt spec.
    }
  }
  const first = snapshot.deployments[0];
  const rebuilt = {
    name: snapshot.endpoint.name ?? 'unknown',
    model: {
      uri: first?.properties.model ?? `azureml://endpoints/${snapshot.endpoint.name}`,
      format: 'onnx' as const,
    },
    replicas: Math.max(1, first?.sku?.capacity ?? 1),
  };
  // Names made outside mlscale may break its naming rules; report them as they are rather than fail.
  const parsed = deploymentSpecSchema.safeParse(rebuilt);
  return parsed.success ? parsed.data : rebuilt;
}

/** Deployments that receive traffic; all of them while the traffic map is still empty. */
export function liveDeployments(snapshot: EndpointSnapshot): OnlineDeployment[] {
  const traffic = snapshot.endpoint.properties.traffic ?? {};
  const withTraffic = snapshot.deployments.filter(
    (deployment) => (trafficOf(traffic, deployment.name ?? '') ?? 0) > 0,
  );
  return withTraffic.length > 0 ? withTraffic : snapshot.deployments;
}

/** A deployment's share in a traffic map (ARM names compare case-insensitively). */
export function trafficOf(traffic: Record<string, number>, name: string): number | undefined {
  const entry = Object.entries(traffic).find(([item]) => item.toLowerCase() === name.toLowerCase());
  return entry?.[1];
}

function stateOf(
  context: AdapterContext,
  snapshot: EndpointSnapshot,
): { state: DeploymentState; reason?: string } {
  const endpointState = snapshot.endpoint.properties.provisioningState ?? 'Succeeded';
  const name = snapshot.endpoint.name ?? '';
  if (endpointState === 'Deleting') return { state: 'Deleting' };
  if (endpointState === 'Failed')
    return { state: 'Failed', reason: `endpoint '${name}' provisioning failed` };
  const live = liveDeployments(snapshot);
  const failed = live.find((deployment) => deployment.properties.provisioningState === 'Failed');
  if (failed) {
    const key = `${name}/${failed.name}`;
    return {
      state: 'Failed',
      reason: context.failures.get(key) ?? `deployment '${failed.name}' failed to provision; read its logs`,
    };
  }
  const total = Object.values(snapshot.endpoint.properties.traffic ?? {}).reduce(
    (sum, value) => sum + value,
    0,
  );
  if (endpointState === 'Creating' || snapshot.deployments.length === 0 || total === 0) {
    return total === 0 && snapshot.deployments.length > 0
      ? { state: 'Creating', reason: 'traffic not yet routed' }
      : { state: 'Creating' };
  }
  const busy = snapshot.deployments.find(
    (deployment) => deployment.properties.provisioningState !== 'Succeeded',
  );
  if (endpointState === 'Updating' || busy) {
    return {
      state: 'Updating',
      ...(busy ? { reason: `deployment '${busy.name}' is ${busy.properties.provisioningState}` } : {}),
    };
  }
  return { state: 'InService' };
}

/** The autoscaling policy on the deployment with the most traffic, read back from Azure Monitor. */
async function readAutoscaling(
  context: AdapterContext,
  snapshot: EndpointSnapshot,
  signal: AbortSignal | undefined,
): Promise<AutoscalingPolicy | undefined> {
  const primary = primaryDeployment(snapshot);
  if (!primary?.name || !snapshot.endpoint.name) return undefined;
  const setting = await context.find('Reading autoscale settings', (clients) =>
    clients.monitor.autoscaleSettings.get(
      context.settings.resourceGroup,
      autoscaleSettingName(snapshot.endpoint.name ?? '', primary.name ?? ''),
      { abortSignal: signal },
    ),
  );
  return setting ? policyFromSetting(setting) : undefined;
}

/** The deployment with the largest share of traffic. */
export function primaryDeployment(snapshot: EndpointSnapshot): OnlineDeployment | undefined {
  const traffic = snapshot.endpoint.properties.traffic ?? {};
  return [...liveDeployments(snapshot)].sort(
    (left, right) => (trafficOf(traffic, right.name ?? '') ?? 0) - (trafficOf(traffic, left.name ?? '') ?? 0),
  )[0];
}

/** An endpoint and its deployments as core's DeploymentStatus. */
export async function toDeploymentStatus(
  context: AdapterContext,
  snapshot: EndpointSnapshot,
  signal: AbortSignal | undefined,
): Promise<DeploymentStatus> {
  const { endpoint } = snapshot;
  const spec = storedSpec(snapshot);
  const { state, reason } = stateOf(context, snapshot);
  const live = liveDeployments(snapshot);
  const desired = live.reduce((sum, deployment) => sum + (deployment.sku?.capacity ?? 1), 0);
  const ready = live
    .filter((deployment) => deployment.properties.provisioningState === 'Succeeded')
    .reduce((sum, deployment) => sum + (deployment.sku?.capacity ?? 1), 0);
  const autoscaling = state === 'Deleting' ? undefined : await readAutoscaling(context, snapshot, signal);
  const traffic = Object.entries(endpoint.properties.traffic ?? {})
    .map(([version, weight]) => ({ version, weight }))
    .sort((left, right) => right.weight - left.weight || left.version.localeCompare(right.version));
  const created = endpoint.systemData?.createdAt ?? new Date(0);
  const updated = endpoint.systemData?.lastModifiedAt ?? created;
  return {
    name: endpoint.name ?? spec.name,
    provider,
    state,
    ...(reason ? { stateReason: reason } : {}),
    replicas: { desired, ready },
    ...(autoscaling ? { autoscaling } : {}),
    traffic,
    ...(endpoint.properties.scoringUri ? { endpoint: { url: endpoint.properties.scoringUri } } : {}),
    spec,
    specHash: endpoint.tags?.[tagNames.specHash] ?? specHash(spec),
    createdAt: new Date(created),
    updatedAt: new Date(updated),
    details: {
      endpointId: endpoint.id,
      authMode: endpoint.properties.authMode,
      publicNetworkAccess: endpoint.properties.publicNetworkAccess,
      deployments: snapshot.deployments.map((deployment) => ({
        name: deployment.name,
        provisioningState: deployment.properties.provisioningState,
        instanceType: deployment.properties.instanceType,
        instances: deployment.sku?.capacity,
        model: deployment.properties.model,
      })),
    },
  };
}
