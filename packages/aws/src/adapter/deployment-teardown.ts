import type { StepOutcome } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import type { DeploymentObservation } from './deployment-observation.js';
import { deregisterScaling, isRegistered } from './endpoint-autoscaling.js';
import { removeRollbackAlarm } from './rollback-alarm.js';

/**
 * One step of a recorded deletion while the endpoint exists: its variants' autoscaling (so nothing
 * scales an endpoint on its way out), the rollback alarm, then DeleteEndpoint. Once the endpoint is
 * gone its configs and models go too (`removeLeftovers`, run by the reconcile that finds no endpoint).
 * Each action is skipped when already done, so the step can be repeated after a crash at any point.
 */
export async function deploymentTeardownStep(
  context: AdapterContext,
  observation: DeploymentObservation,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  const { name, endpoint } = observation;
  if (endpoint.EndpointStatus === 'Deleting') return 'progressing';
  for (const scaling of observation.scaling.filter(isRegistered))
    await deregisterScaling(context, name, scaling, signal);
  await removeRollbackAlarm(context, name, signal);
  await context.aws.find(
    'sageMaker',
    'DeleteEndpoint',
    ({ module, client }, abortSignal) =>
      client.send(new module.DeleteEndpointCommand({ EndpointName: name }), { abortSignal }),
    signal,
  );
  observation.changed = true;
  return 'progressing';
}
