import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { MlscaleError } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { deleteAutoscaleSetting } from './autoscale-reconciliation.js';
import { provisioningStateOf, sameName, settingOf, trafficOf } from './deployment-observation.js';
import type { DeploymentTarget } from './deployment-targets.js';
import { serverEnvironmentName, tagNames } from './resource-names.js';
import { machineLearningItems } from './sdk-pages.js';
import type { StepContext } from './step-context.js';
import { isNotFound, toMlscaleError } from './to-mlscale-error.js';
import { isTarget } from './traffic-rollout.js';

/**
 * Upkeep once the targets serve: removes deployments no longer in the traffic map (their autoscale
 * settings first), autoscale settings left aimed at gone deployments, and the model and environment
 * versions mlscale registered for the endpoint that no remaining deployment uses. Best effort: a
 * refusal leaves the thing for a later reconcile (it must not fail a deployment that serves as asked);
 * a retryable failure is thrown so the client retries the step.
 */
export async function collectGarbage(step: StepContext, targets: DeploymentTarget[]): Promise<void> {
  const { context, name, observation, signal } = step;
  const traffic = observation.endpoint.properties.traffic;
  const removed = new Set<string>();
  for (const deployment of observation.deployments) {
    if (isTarget(targets, deployment.name) || provisioningStateOf(deployment) === 'Deleting') continue;
    if (trafficOf(traffic, deployment.name ?? '') > 0) continue;
    await bestEffort(async () => {
      const setting = settingOf(observation, deployment);
      if (setting?.name) await deleteAutoscaleSetting(context, setting.name, signal);
      await deleteDeployment(context, name, deployment.name ?? '', signal);
      removed.add((deployment.name ?? '').toLowerCase());
    });
  }
  for (const setting of observation.autoscaleSettings) {
    const aimedAt = observation.deployments.find((deployment) =>
      sameName(deployment.id, setting.targetResourceUri),
    );
    if (aimedAt || sameName(setting.targetResourceUri, observation.endpoint.id) || !setting.name) continue;
    await bestEffort(() => deleteAutoscaleSetting(context, setting.name!, signal));
  }
  const remaining = observation.deployments.filter(
    (deployment) =>
      provisioningStateOf(deployment) !== 'Deleting' && !removed.has((deployment.name ?? '').toLowerCase()),
  );
  await bestEffort(() => deleteEndpointAssets(context, name, remaining, signal));
}

/** Starts deleting one deployment. */
export function deleteDeployment(
  context: AdapterContext,
  endpoint: string,
  deployment: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { resourceGroup, workspace } = context.settings;
  return context.start(`Deleting deployment '${endpoint}/${deployment}'`, signal, (clients, call) =>
    clients.machineLearning.onlineDeployments.beginDelete(
      resourceGroup,
      workspace,
      endpoint,
      deployment,
      call,
    ),
  );
}

/**
 * Deletes the model versions (registered under the endpoint's name) and environment versions
 * (`mlscale-server-{endpoint}`) tagged with the endpoint that none of `inUse` runs. With no deployments
 * in use, everything mlscale registered for the endpoint goes.
 */
export async function deleteEndpointAssets(
  context: AdapterContext,
  endpoint: string,
  inUse: OnlineDeployment[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const { resourceGroup, workspace } = context.settings;
  const used = new Set(
    inUse
      .flatMap((deployment) => [deployment.properties.model, deployment.properties.environmentId])
      .filter((id): id is string => typeof id === 'string')
      .map((id) => id.toLowerCase()),
  );
  const models = await taggedVersions(context, endpoint, 'models', endpoint, signal);
  for (const version of models) {
    if (used.has(`${context.workspaceId}/models/${endpoint}/versions/${version}`.toLowerCase())) continue;
    await context.find(
      `Deleting model '${endpoint}' version ${version}`,
      (clients) =>
        clients.machineLearning.modelVersions.delete(resourceGroup, workspace, endpoint, version, {
          abortSignal: signal,
        }),
      signal,
    );
  }
  const environment = serverEnvironmentName(endpoint);
  const environments = await taggedVersions(context, endpoint, 'environments', environment, signal);
  for (const version of environments) {
    if (used.has(`${context.workspaceId}/environments/${environment}/versions/${version}`.toLowerCase()))
      continue;
    await context.find(
      `Deleting environment '${environment}' version ${version}`,
      (clients) =>
        clients.machineLearning.environmentVersions.delete(resourceGroup, workspace, environment, version, {
          abortSignal: signal,
        }),
      signal,
    );
  }
}

/** Versions of a model or environment that carry the endpoint's tag (none when there is no such asset). */
function taggedVersions(
  context: AdapterContext,
  endpoint: string,
  kind: 'models' | 'environments',
  assetName: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const { resourceGroup, workspace } = context.settings;
  return context.call(
    `Listing versions of ${kind === 'models' ? 'model' : 'environment'} '${assetName}'`,
    async (clients) => {
      const list =
        kind === 'models'
          ? clients.machineLearning.modelVersions.list(resourceGroup, workspace, assetName, {
              abortSignal: signal,
            })
          : clients.machineLearning.environmentVersions.list(resourceGroup, workspace, assetName, {
              abortSignal: signal,
            });
      const versions: string[] = [];
      try {
        for await (const version of machineLearningItems(clients, list)) {
          if (version.name && sameName(version.properties.tags?.[tagNames.endpoint] ?? undefined, endpoint))
            versions.push(version.name);
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return versions;
    },
    signal,
  );
}

/** Runs upkeep: a refusal is left for a later reconcile, anything the client may retry is thrown. */
async function bestEffort(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const failure = MlscaleError.isInstance(error) ? error : toMlscaleError(error, 'Cleaning up');
    if (failure.retryable || failure.code === 'Aborted' || failure.code === 'Timeout') throw failure;
  }
}
