import { deleteAutoscaleSetting } from './autoscale-reconciliation.js';
import { provisioningStateOf } from './deployment-observation.js';
import { deleteEndpointAssets } from './garbage-collection.js';
import type { Readiness, StepContext } from './step-context.js';

/**
 * One step of a deletion. The record lives on the endpoint, so what outlives it goes first: the
 * autoscale settings aimed at the endpoint's deployments (Azure Monitor keeps them otherwise), then the
 * model and environment versions mlscale registered for it, then the endpoint, which takes its
 * deployments with it. Each part is safe to repeat; the deployment is gone once the endpoint is.
 */
export async function advanceDeletion(step: StepContext): Promise<Readiness> {
  const { context, name, observation, signal } = step;
  if (provisioningStateOf(observation.endpoint) === 'Deleting') return 'progressing';
  for (const setting of observation.autoscaleSettings) {
    if (setting.name) await deleteAutoscaleSetting(context, setting.name, signal);
  }
  await deleteEndpointAssets(context, name, [], signal);
  const { resourceGroup, workspace } = context.settings;
  await context.start(`Deleting endpoint '${name}'`, signal, (clients, call) =>
    clients.machineLearning.onlineEndpoints.beginDelete(resourceGroup, workspace, name, call),
  );
  return 'progressing';
}
