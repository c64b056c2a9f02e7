import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { type DeploymentSpec, secretHashKey } from '@mlscale/core';
import { markStarted, recordPhase, rolloutStarted } from '@mlscale/core/provider-utils';
import { containerEnvironmentLookup } from './container-environment.js';
import { deploymentBody, ensureServerEnvironment, initialCapacity } from './deployment-bodies.js';
import { configDifference } from './deployment-config.js';
import {
  deploymentNamed,
  describeTraffic,
  primaryDeployment,
  provisioningStateOf,
} from './deployment-observation.js';
import type { AzureDeploymentOptions } from './deployment-options.js';
import { saveRecord } from './deployment-record-store.js';
import type { DeploymentTarget } from './deployment-targets.js';
import { provisioningFailureReason, provisioningRefusal } from './provisioning-failure.js';
import type { Readiness, StepContext } from './step-context.js';

/** Deployment states in which an operation runs: wait for it rather than start another. */
const busyStates = new Set(['Creating', 'Updating', 'Scaling', 'Deleting']);

/**
 * Makes every target's deployment exist, provisioned, running the desired spec: a missing one is
 * created beside the serving ones (blue/green), one whose container settings differ is updated in place,
 * and one that failed before this change was asked for is tried again. One that fails for this change
 * is a refusal. Once the targets are all in Azure the record says so (`markStarted`, ending the step),
 * so a later step can tell a failure of this change from an older one. `blocked` when a secret's value
 * is not known here.
 */
export async function ensureTargetDeployments(
  step: StepContext,
  targets: DeploymentTarget[],
  options: AzureDeploymentOptions,
): Promise<Readiness | { blocked: string }> {
  const { context, name, record, observation, signal } = step;
  const desired = record.desired;
  const location = observation.endpoint.location;
  const secretKey = secretHashKey(name);
  let readiness: Readiness = 'ready';
  for (const target of targets) {
    const existing = deploymentNamed(observation, target.deploymentName);
    const state = existing ? provisioningStateOf(existing) : undefined;
    if (state && busyStates.has(state)) {
      readiness = 'progressing';
      continue;
    }
    if (existing && state === 'Failed' && rolloutStarted(record)) {
      const reason = await provisioningFailureReason(step, existing);
      throw provisioningRefusal(reason, describeTraffic(observation.endpoint.properties.traffic));
    }
    const capacity =
      desired.autoscaling && existing?.sku?.capacity ? existing.sku.capacity : initialCapacity(desired);
    const sealedBody = deploymentBody(context, desired, options, target, location, capacity);
    if (existing && state === 'Succeeded' && !configDifference(existing, sealedBody, secretKey)) continue;
    const resolved = unsealed(step, target, existing);
    if ('blocked' in resolved) return resolved;
    const { spec } = resolved;
    if (!options.environmentId) await ensureServerEnvironment(context, name, target.modelName, signal);
    const body = deploymentBody(context, spec, options, target, location, capacity);
    const { resourceGroup, workspace } = context.settings;
    await context.start(`Writing deployment '${name}/${target.deploymentName}'`, signal, (clients, call) =>
      clients.machineLearning.onlineDeployments.beginCreateOrUpdate(
        resourceGroup,
        workspace,
        name,
        target.deploymentName,
        body,
        call,
      ),
    );
    readiness = 'progressing';
  }
  if (recordPhase(record) !== 'converged' && !rolloutStarted(record)) {
    await saveRecord(context, name, markStarted(record), signal);
    // The tags just changed: the next step reads them again before a full endpoint PUT carries them.
    return 'progressing';
  }
  return readiness;
}

/**
 * Sets each target's instance count where no autoscaling owns it (a deployment PATCH of `sku`). Runs
 * after autoscale settings are removed, so Azure Monitor does not scale it back.
 */
export async function ensureCapacity(step: StepContext, targets: DeploymentTarget[]): Promise<Readiness> {
  const { context, name, record, observation, signal } = step;
  if (record.desired.autoscaling) return 'ready';
  const capacity = initialCapacity(record.desired);
  let readiness: Readiness = 'ready';
  for (const target of targets) {
    const deployment = deploymentNamed(observation, target.deploymentName);
    if (!deployment || deployment.sku?.capacity === capacity) continue;
    const { resourceGroup, workspace } = context.settings;
    await context.start(
      `Scaling deployment '${name}/${target.deploymentName}' to ${capacity}`,
      signal,
      (clients, call) =>
        clients.machineLearning.onlineDeployments.beginUpdate(
          resourceGroup,
          workspace,
          name,
          target.deploymentName,
          { sku: { name: 'Default', capacity } },
          call,
        ),
    );
    readiness = 'progressing';
  }
  return readiness;
}

/**
 * The spec a target's container runs, its sealed values replaced by the values: remembered by this
 * process, else taken from the container Azure already runs (this deployment's own, else the serving
 * one's) when they seal to the recorded hash; `blocked` when some value is known nowhere. The container
 * serves the target's model version (Azure reads an artifact, SAS signature and all, through that
 * version), so the spec's own model references are not needed, nor unsealed, here.
 */
function unsealed(
  step: StepContext,
  target: DeploymentTarget,
  existing: OnlineDeployment | undefined,
): { spec: DeploymentSpec } | { blocked: string } {
  const { record, observation, secrets } = step;
  const { traffic: _traffic, ...rest } = record.desired;
  const served: DeploymentSpec = {
    ...rest,
    model: { name: target.modelName, version: Number(target.version) },
  };
  return secrets.resolve(served, containerEnvironmentLookup(existing ?? primaryDeployment(observation)));
}
