import { MlscaleError } from '@mlscale/core';
import {
  type DeploymentRecord,
  markConverged,
  markStarted,
  recordPhase,
  rolloutStarted,
  type SecretMemory,
  type StepOutcome,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { fleetNames } from './deployment-fleet.js';
import type { DeploymentObservation } from './deployment-observation.js';
import { blueGreenDeploymentConfig } from './deployment-requests.js';
import { describeEndpointConfig, ensureFleet } from './deployment-resources.js';
import { deploymentTeardownStep } from './deployment-teardown.js';
import {
  deregisterScaling,
  isRegistered,
  policyInForce,
  registerScaling,
  scalingMatches,
  type VariantScaling,
} from './endpoint-autoscaling.js';
import { capacityChanges, changeCapacity } from './endpoint-capacity.js';
import { saveRecord } from './endpoint-record.js';
import { collectGarbage } from './garbage-collection.js';
import { deploymentAwsOptions } from './provider-options.js';
import type { DeploymentResourceNames } from './resource-names.js';
import { putRollbackAlarm } from './rollback-alarm.js';
import { refuseSteppedVariantChange, variantChange } from './variant-continuity.js';

/** What the planner needs besides the cloud: the secret values this process has seen. */
export interface PlannerContext {
  context: AdapterContext;
  secrets: SecretMemory;
}

/**
 * One step toward the record, from what was just read (core's `reconcileStep` calls it, and records
 * convergence after it):
 *
 *   deleting                        → teardown (autoscaling, rollback alarm, DeleteEndpoint)
 *   endpoint busy (Creating, Updating, ...) or Failed → nothing to do yet
 *   runs another config than the desired spec's:
 *     the rollout was accepted and SageMaker reports a FailureReason → it rolled back: refuse (the
 *       record goes back to the serving spec)
 *     else → make sure the desired models and config exist, deregister only the scaled variants the
 *       update would retype or remove, put the rollback alarm, UpdateEndpoint, record it started
 *   runs the desired config → autoscaling removed when not wanted, weights and counts in place,
 *     autoscaling registered as wanted, record converged, then garbage collection
 *
 * Every action reads before it writes or is an upsert, so the step can be cut off anywhere and run
 * again by any process.
 */
export async function advanceDeployment(
  planner: PlannerContext,
  record: DeploymentRecord,
  observation: DeploymentObservation,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  const { context } = planner;
  if (record.deleting) return deploymentTeardownStep(context, observation, signal);
  const { endpoint } = observation;
  if (endpoint.EndpointStatus !== 'InService') return 'progressing';
  const names = fleetNames(record.desired);
  if (endpoint.EndpointConfigName === names.endpointConfig)
    return settleInPlace(context, record, observation, signal);
  if (rolloutStarted(record) && endpoint.FailureReason) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider: 'aws',
      retryable: false,
      message: `SageMaker rolled the update to endpoint config ${names.endpointConfig} back and kept ${endpoint.EndpointConfigName}: ${endpoint.FailureReason}`,
    });
  }
  const ready = await ensureFleet(
    context,
    planner.secrets,
    record.desired,
    endpoint.EndpointConfigName,
    'update',
    signal,
  );
  if (ready !== 'ready') return ready;
  await rollOut(context, record, observation, names, signal);
  return 'progressing';
}

/**
 * The scaled variants an update to `names` would retype or remove: Application Auto Scaling makes
 * SageMaker refuse such an update, so those (and only those) are deregistered before it. A variant
 * whose model alone changes keeps its autoscaling.
 */
async function variantsBlockingUpdate(
  context: AdapterContext,
  observation: DeploymentObservation,
  names: DeploymentResourceNames,
  signal: AbortSignal | undefined,
): Promise<VariantScaling[]> {
  const registered = observation.scaling.filter(isRegistered);
  if (registered.length === 0) return [];
  const instanceTypes = async (config: string | undefined) =>
    new Map(
      (
        (config ? await describeEndpointConfig(context, config, signal) : undefined)?.ProductionVariants ?? []
      ).map((variant) => [variant.VariantName ?? '', variant.InstanceType ?? '']),
    );
  const running = await instanceTypes(observation.endpoint.EndpointConfigName);
  const next = await instanceTypes(names.endpointConfig);
  return registered.filter(
    (scaling) => !next.has(scaling.variant) || next.get(scaling.variant) !== running.get(scaling.variant),
  );
}

/** Starts the blue/green update to the desired config, and records that SageMaker accepted it. */
async function rollOut(
  context: AdapterContext,
  record: DeploymentRecord,
  observation: DeploymentObservation,
  names: DeploymentResourceNames,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { name } = observation;
  const desired = record.desired;
  // Variants that change cannot take traffic shifting: such an update switches at once.
  refuseSteppedVariantChange(desired, observation.endpoint);
  const renamed = variantChange(desired, observation.endpoint) !== undefined;
  const blocking = await variantsBlockingUpdate(context, observation, names, signal);
  for (const scaling of blocking) {
    await deregisterScaling(context, name, scaling, signal);
    observation.changed = true;
  }
  await putRollbackAlarm(context, desired, names.variants[0]!, signal);
  try {
    await context.aws.call(
      'sageMaker',
      'UpdateEndpoint',
      ({ module, client }, abortSignal) =>
        client.send(
          new module.UpdateEndpointCommand({
            EndpointName: name,
            EndpointConfigName: names.endpointConfig,
            ...(renamed
              ? {}
              : {
                  DeploymentConfig: blueGreenDeploymentConfig(
                    desired,
                    deploymentAwsOptions(desired.providerOptions),
                  ),
                }),
          }),
          { abortSignal },
        ),
      signal,
    );
  } catch (error) {
    // The previous config keeps serving: it gets back the autoscaling lifted for the update.
    if (!signal?.aborted) await restoreScaling(context, name, blocking, record, signal);
    throw error;
  }
  observation.changed = true;
  await saveRecord(context, observation, markStarted(record), signal);
}

/** Registers again what `rollOut` deregistered, as it was; best effort (a later step registers what the record wants). */
async function restoreScaling(
  context: AdapterContext,
  name: string,
  lifted: readonly VariantScaling[],
  record: DeploymentRecord,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const scaling of lifted) {
    const policy = policyInForce(scaling, record.serving?.autoscaling);
    if (!policy) continue;
    try {
      await registerScaling(context, name, scaling.variant, policy, signal);
    } catch {
      // The failure of the update is what the caller needs to hear.
    }
  }
}

/**
 * The endpoint runs the desired config: the rest changes in place. Autoscaling that is not wanted goes
 * first (it would move the count again), then weights and counts (UpdateEndpointWeightsAndCapacities:
 * the endpoint goes Updating, and a later step carries on), then autoscaling as wanted (Application
 * Auto Scaling may have lost it across an update). Then the record says converged, and what no spec
 * uses any more is removed.
 */
async function settleInPlace(
  context: AdapterContext,
  record: DeploymentRecord,
  observation: DeploymentObservation,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  const { name, endpoint, scaling } = observation;
  const desired = record.desired;
  if (!desired.autoscaling) {
    for (const registered of scaling.filter(isRegistered)) {
      await deregisterScaling(context, name, registered, signal);
      observation.changed = true;
    }
  }
  const changes = capacityChanges(desired, endpoint);
  if (changes) {
    await changeCapacity(context, name, changes, signal);
    observation.changed = true;
    return 'progressing';
  }
  const policy = desired.autoscaling;
  if (policy) {
    for (const variant of endpoint.ProductionVariants ?? []) {
      const registered = scaling.find((entry) => entry.variant === variant.VariantName);
      if (registered && scalingMatches(registered, policy)) continue;
      await registerScaling(context, name, variant.VariantName!, policy, signal);
      observation.changed = true;
    }
  }
  if (recordPhase(record) !== 'converged')
    await saveRecord(context, observation, markConverged(record), signal);
  await collectGarbage(context, observation, signal);
  return 'converged';
}
