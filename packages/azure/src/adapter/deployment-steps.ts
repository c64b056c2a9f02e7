import { MlscaleError } from '@mlscale/core';
import { recordPhase, type StepOutcome } from '@mlscale/core/provider-utils';
import { reconcileTargetAutoscaling } from './autoscale-reconciliation.js';
import { authModeFor, endpointBody, publicNetworkAccessFor } from './deployment-bodies.js';
import { advanceDeletion } from './deployment-deletion.js';
import { provisioningStateOf } from './deployment-observation.js';
import { deploymentOptions } from './deployment-options.js';
import { resolveTargets } from './deployment-targets.js';
import { collectGarbage } from './garbage-collection.js';
import { modelReferenceValues } from './model-reference-values.js';
import type { StepContext } from './step-context.js';
import { ensureCapacity, ensureTargetDeployments } from './target-deployments.js';
import { provider } from './to-mlscale-error.js';
import { advanceTraffic } from './traffic-rollout.js';

/**
 * One reconcile step of an Azure deployment, in the order that keeps the serving version whole: each
 * part reads what Azure has (the observation) before it writes, starts what is missing without waiting
 * for it, and the step ends at the first part still in progress:
 *
 *   endpoint settings → model versions and target deployments (beside the serving ones) → autoscaling
 *   of the targets → instance counts → traffic (blue/green, in rollout steps) → garbage collection
 *
 * Deletion has its own order (`advanceDeletion`). A refusal thrown here abandons the change
 * (`reconcileStep`): traffic never moved, and the next step's garbage collection removes what the
 * change had created.
 */
export async function advanceDeployment(step: StepContext): Promise<StepOutcome> {
  const { record, observation, context, name, signal } = step;
  if (record.deleting) {
    await advanceDeletion(step);
    return 'progressing';
  }
  const { endpoint } = observation;
  const endpointState = provisioningStateOf(endpoint);
  if (endpointState === 'Failed') {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      retryable: false,
      message: `Endpoint '${name}' failed to provision in Azure; delete the deployment and deploy again.`,
    });
  }
  if (endpointState !== 'Succeeded') return 'progressing';
  // A first deployment that failed waits for a new request (a deploy again) rather than retrying alone.
  if (recordPhase(record) === 'creating' && record.failure) return 'progressing';
  const desired = record.desired;
  const options = deploymentOptions(desired);

  if (
    endpoint.properties.authMode !== authModeFor(context, options) ||
    (endpoint.properties.publicNetworkAccess ?? 'Enabled') !== publicNetworkAccessFor(desired)
  ) {
    const body = endpointBody(
      context,
      desired,
      options,
      {
        location: endpoint.location,
        tags: (endpoint.tags ?? {}) as Record<string, string>,
        properties: (endpoint.properties.properties ?? {}) as Record<string, string>,
      },
      endpoint.properties.traffic ?? {},
    );
    const { resourceGroup, workspace } = context.settings;
    await context.start(`Updating endpoint '${name}'`, signal, (clients, call) =>
      clients.machineLearning.onlineEndpoints.beginCreateOrUpdate(resourceGroup, workspace, name, body, call),
    );
    return 'progressing';
  }

  const targets = await resolveTargets(context, desired, observation, signal, () =>
    modelReferenceValues(step),
  );
  if (!Array.isArray(targets)) return targets;
  const deployments = await ensureTargetDeployments(step, targets, options);
  if (deployments !== 'ready') return deployments === 'progressing' ? 'progressing' : deployments;
  await reconcileTargetAutoscaling(step, targets);
  if ((await ensureCapacity(step, targets)) !== 'ready') return 'progressing';
  if ((await advanceTraffic(step, targets, options)) !== 'ready') return 'progressing';
  await collectGarbage(step, targets);
  return 'converged';
}
