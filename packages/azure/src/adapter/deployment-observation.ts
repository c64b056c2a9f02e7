import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import type { AutoscaleSettingResource } from '@azure/arm-monitor';
import type { AdapterContext } from './adapter-context.js';
import { machineLearningItems } from './sdk-pages.js';
import { isNotFound } from './to-mlscale-error.js';

/** An endpoint with its deployments, as read from ARM. */
export interface EndpointSnapshot {
  endpoint: OnlineEndpoint;
  deployments: OnlineDeployment[];
}

/** What a reconcile step and a status read see: the endpoint, its deployments and their autoscale settings. */
export interface DeploymentObservation extends EndpointSnapshot {
  /** Azure Monitor autoscale settings aimed at the endpoint or its deployments (left-behind ones too). */
  autoscaleSettings: AutoscaleSettingResource[];
}

/** Reads an endpoint and its deployments; undefined when there is no endpoint. */
export async function readEndpoint(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<EndpointSnapshot | undefined> {
  const { settings } = context;
  const endpoint = await context.find(
    `Reading endpoint '${name}'`,
    (clients) =>
      clients.machineLearning.onlineEndpoints.get(settings.resourceGroup, settings.workspace, name, {
        abortSignal: signal,
      }),
    signal,
  );
  if (!endpoint) return undefined;
  const deployments = await context.call(
    `Listing deployments of endpoint '${name}'`,
    async (clients) => {
      const found: OnlineDeployment[] = [];
      try {
        for await (const deployment of machineLearningItems(
          clients,
          clients.machineLearning.onlineDeployments.list(settings.resourceGroup, settings.workspace, name, {
            abortSignal: signal,
          }),
        ))
          found.push(deployment);
      } catch (error) {
        // The endpoint may vanish between the two reads while it is being deleted.
        if (isNotFound(error)) return undefined;
        throw error;
      }
      return found;
    },
    signal,
  );
  return deployments ? { endpoint, deployments } : undefined;
}

/** Every autoscale setting of the resource group (one list call, shared by all endpoints of a listing). */
export function listAutoscaleSettings(
  context: AdapterContext,
  signal: AbortSignal | undefined,
): Promise<AutoscaleSettingResource[]> {
  return context.call(
    'Listing autoscale settings',
    async (clients) => {
      const found: AutoscaleSettingResource[] = [];
      // @azure/arm-monitor 7 exposes no page tokens; its paginator follows `nextLink` itself.
      for await (const page of clients.monitor.autoscaleSettings
        .listByResourceGroup(context.settings.resourceGroup, { abortSignal: signal })
        .byPage())
        found.push(...page);
      return found;
    },
    signal,
  );
}

/** The settings aimed at `endpointId` or at one of its deployments. */
export function settingsAimedAt(
  settings: AutoscaleSettingResource[],
  endpointId: string,
): AutoscaleSettingResource[] {
  const id = endpointId.toLowerCase();
  return settings.filter((setting) => {
    const target = (setting.targetResourceUri ?? '').toLowerCase();
    return target === id || target.startsWith(`${id}/`);
  });
}

/** The endpoint, its deployments and their autoscale settings; undefined when there is no endpoint. */
export async function observeEndpoint(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
  knownSettings?: AutoscaleSettingResource[],
): Promise<DeploymentObservation | undefined> {
  const snapshot = await readEndpoint(context, name, signal);
  if (!snapshot) return undefined;
  const settings = knownSettings ?? (await listAutoscaleSettings(context, signal));
  return { ...snapshot, autoscaleSettings: settingsAimedAt(settings, snapshot.endpoint.id ?? '') };
}

/** ARM names compare case-insensitively. */
export function sameName(left: string | undefined, right: string | undefined): boolean {
  return (left ?? '').toLowerCase() === (right ?? '').toLowerCase();
}

/** A deployment's share in a traffic map. */
export function trafficOf(traffic: Record<string, number> | undefined, name: string): number {
  return Object.entries(traffic ?? {}).find(([item]) => sameName(item, name))?.[1] ?? 0;
}

/** A traffic map in words: `blue 90%, green 10%`. */
export function describeTraffic(traffic: Record<string, number> | undefined): string {
  const entries = Object.entries(traffic ?? {}).filter(([, weight]) => weight > 0);
  return entries.length === 0
    ? 'no deployment'
    : entries.map(([name, weight]) => `${name} ${weight}%`).join(', ');
}

/** The deployment named `name`, if the endpoint has it. */
export function deploymentNamed(snapshot: EndpointSnapshot, name: string): OnlineDeployment | undefined {
  return snapshot.deployments.find((deployment) => sameName(deployment.name, name));
}

/** The deployment with the largest share of traffic (the one serving most requests), if any has traffic. */
export function primaryDeployment(snapshot: EndpointSnapshot): OnlineDeployment | undefined {
  const traffic = snapshot.endpoint.properties.traffic;
  return [...snapshot.deployments]
    .filter((deployment) => trafficOf(traffic, deployment.name ?? '') > 0)
    .sort((left, right) => trafficOf(traffic, right.name ?? '') - trafficOf(traffic, left.name ?? ''))[0];
}

/** The provisioning state of an endpoint or deployment (Azure leaves it out only when it is done). */
export function provisioningStateOf(resource: OnlineEndpoint | OnlineDeployment): string {
  return resource.properties.provisioningState ?? 'Succeeded';
}

/** The setting aimed at one deployment. */
export function settingOf(
  observation: DeploymentObservation,
  deployment: OnlineDeployment,
): AutoscaleSettingResource | undefined {
  return observation.autoscaleSettings.find((setting) => sameName(setting.targetResourceUri, deployment.id));
}
