import type { OnlineDeployment } from '@azure/arm-machinelearning';
import {
  type AutoscalingPolicy,
  type CallOptionsV1,
  type DeploymentOperationsV1,
  type DeploymentSpec,
  type DeploymentStatus,
  MlscaleError,
  sleep,
  specHash,
  waitFor,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { autoscaleSettingFor } from './autoscale-settings.js';
import { type AzureDeploymentOptions, deploymentOptions } from './deployment-options.js';
import {
  type DeploymentTarget,
  deploymentBody,
  endpointBody,
  ensureServerEnvironment,
  locationResolver,
  resolveTargets,
} from './deployment-resources.js';
import {
  type EndpointSnapshot,
  liveDeployments,
  readEndpoint,
  storedSpec,
  toDeploymentStatus,
  trafficOf,
} from './deployment-status.js';
import { autoscaleSettingName, managedByValue, tagNames } from './resource-names.js';
import { scoreRequest } from './scoring-request.js';
import { provider } from './to-mlscale-error.js';
import { blendTraffic, errorRateSince } from './traffic-shift.js';

const settledStates = new Set(['Succeeded', 'Failed', 'Canceled']);

function notFound(name: string): MlscaleError {
  return new MlscaleError({
    code: 'NotFound',
    provider,
    message: `No deployment named '${name}' on the azure backend.`,
  });
}

/** The deployment group: online endpoints, their deployments, traffic, scale and autoscale. */
export function createDeploymentOperations(context: AdapterContext): DeploymentOperationsV1 {
  const { settings } = context;
  const location = locationResolver(context);

  const putEndpoint = async (
    spec: DeploymentSpec,
    options: AzureDeploymentOptions,
    traffic: Record<string, number>,
    signal: AbortSignal | undefined,
  ) => {
    const body = endpointBody(context, spec, options, await location(signal), traffic);
    return context.operation(`endpoint '${spec.name}' to be written`, signal, (clients, lro) =>
      clients.machineLearning.onlineEndpoints.beginCreateOrUpdate(
        settings.resourceGroup,
        settings.workspace,
        spec.name,
        body,
        lro,
      ),
    );
  };

  const waitUntilSettled = (endpointName: string, deploymentName: string, signal: AbortSignal | undefined) =>
    waitFor<OnlineDeployment | undefined>({
      description: `deployment '${endpointName}/${deploymentName}' to settle`,
      minDelayMs: settings.pollIntervalMs,
      maxDelayMs: Math.max(settings.pollIntervalMs, 10_000),
      maxWaitMs: settings.operationTimeoutMs,
      ...(signal ? { signal } : {}),
      check: async () => {
        const found = await context.find(`Reading deployment '${deploymentName}'`, (clients) =>
          clients.machineLearning.onlineDeployments.get(
            settings.resourceGroup,
            settings.workspace,
            endpointName,
            deploymentName,
          ),
        );
        const state = found?.properties.provisioningState ?? 'Succeeded';
        return !found || settledStates.has(state)
          ? { state: 'SUCCESS', value: found }
          : { state: 'RETRY', progress: state };
      },
    });

  /** Makes one deployment exist, provisioned, at the spec's capacity; waits on each long-running operation. */
  const ensureDeployment = async (
    spec: DeploymentSpec,
    options: AzureDeploymentOptions,
    target: DeploymentTarget,
    existing: OnlineDeployment | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    let current = existing;
    if (current && !settledStates.has(current.properties.provisioningState ?? 'Succeeded')) {
      // An interrupted deploy left it mid-operation: wait for it rather than start another.
      current = await waitUntilSettled(spec.name, target.deploymentName, signal);
    }
    if (current && current.properties.provisioningState === 'Succeeded') {
      const capacity = spec.autoscaling ? undefined : Math.max(1, spec.replicas);
      if (capacity !== undefined && current.sku?.capacity !== capacity) {
        await scaleDeployment(spec.name, target.deploymentName, capacity, signal);
      }
      return;
    }
    const environmentId =
      options.environmentId ?? (await ensureServerEnvironment(context, target.modelName, signal));
    const body = deploymentBody(context, spec, options, target, environmentId, await location(signal));
    const key = `${spec.name}/${target.deploymentName}`;
    try {
      await context.operation(`deployment '${key}' to be provisioned`, signal, (clients, lro) =>
        clients.machineLearning.onlineDeployments.beginCreateOrUpdate(
          settings.resourceGroup,
          settings.workspace,
          spec.name,
          target.deploymentName,
          body,
          lro,
        ),
      );
      context.failures.delete(key);
    } catch (error) {
      if (MlscaleError.isInstance(error) && error.code !== 'Aborted' && error.code !== 'Timeout') {
        context.failures.set(key, error.message);
      }
      throw error;
    }
  };

  const scaleDeployment = (
    endpointName: string,
    deploymentName: string,
    capacity: number,
    signal: AbortSignal | undefined,
  ) =>
    context.operation(
      `deployment '${endpointName}/${deploymentName}' to scale to ${capacity}`,
      signal,
      (clients, lro) =>
        clients.machineLearning.onlineDeployments.beginUpdate(
          settings.resourceGroup,
          settings.workspace,
          endpointName,
          deploymentName,
          { sku: { name: 'Default', capacity } },
          lro,
        ),
    );

  const deleteDeployment = async (
    endpointName: string,
    deploymentName: string,
    signal: AbortSignal | undefined,
  ) => {
    await removeAutoscale(endpointName, deploymentName, signal);
    await context.operation(
      `deployment '${endpointName}/${deploymentName}' to be deleted`,
      signal,
      (clients, lro) =>
        clients.machineLearning.onlineDeployments.beginDelete(
          settings.resourceGroup,
          settings.workspace,
          endpointName,
          deploymentName,
          lro,
        ),
    );
  };

  const removeAutoscale = async (
    endpointName: string,
    deploymentName: string,
    signal: AbortSignal | undefined,
  ) => {
    await context.find('Removing an autoscale setting', (clients) =>
      clients.monitor.autoscaleSettings.delete(
        settings.resourceGroup,
        autoscaleSettingName(endpointName, deploymentName),
        {
          abortSignal: signal,
        },
      ),
    );
  };

  const applyAutoscale = async (
    snapshot: EndpointSnapshot,
    deploymentNames: string[],
    policy: AutoscalingPolicy | null,
    signal: AbortSignal | undefined,
  ) => {
    const endpointName = snapshot.endpoint.name ?? '';
    for (const deploymentName of deploymentNames) {
      if (!policy) {
        await removeAutoscale(endpointName, deploymentName, signal);
        continue;
      }
      const deployment = snapshot.deployments.find(
        (item) => item.name?.toLowerCase() === deploymentName.toLowerCase(),
      );
      const body = autoscaleSettingFor({
        policy,
        endpointId: snapshot.endpoint.id ?? '',
        deploymentId: deployment?.id ?? `${snapshot.endpoint.id}/deployments/${deploymentName}`,
        deploymentName,
        location: await location(signal),
        currentReplicas: deployment?.sku?.capacity ?? policy.minReplicas,
      });
      await context.call(`Writing the autoscale setting of '${endpointName}/${deploymentName}'`, (clients) =>
        clients.monitor.autoscaleSettings.createOrUpdate(
          settings.resourceGroup,
          autoscaleSettingName(endpointName, deploymentName),
          body,
          { abortSignal: signal },
        ),
      );
    }
  };

  const status = async (name: string, signal: AbortSignal | undefined): Promise<DeploymentStatus> => {
    const snapshot = await readEndpoint(context, name, signal);
    if (!snapshot) throw notFound(name);
    return toDeploymentStatus(context, snapshot, signal);
  };

  /** Brings Azure to the spec: endpoint, each model's deployment, then traffic with a full PUT, then autoscale. */
  const converge = async (
    spec: DeploymentSpec,
    existing: EndpointSnapshot | undefined,
    signal: AbortSignal | undefined,
  ) => {
    const options = deploymentOptions(spec);
    const targets = await resolveTargets(context, spec, signal);
    let traffic = existing?.endpoint.properties.traffic ?? {};
    if (existing?.endpoint.properties.provisioningState !== 'Succeeded') {
      await putEndpoint(spec, options, traffic, signal);
    }
    for (const target of targets) {
      const found = existing?.deployments.find(
        (item) => item.name?.toLowerCase() === target.deploymentName.toLowerCase(),
      );
      await ensureDeployment(spec, options, target, found, signal);
    }
    const wanted = Object.fromEntries(targets.map((target) => [target.deploymentName, target.weight]));
    if (!sameTraffic(traffic, wanted)) {
      traffic = wanted;
      await putEndpoint(spec, options, traffic, signal);
    }
    const snapshot = await readEndpoint(context, spec.name, signal);
    if (!snapshot) throw notFound(spec.name);
    if (spec.autoscaling)
      await applyAutoscale(
        snapshot,
        targets.map((target) => target.deploymentName),
        spec.autoscaling,
        signal,
      );
    return snapshot;
  };

  return {
    async doCreate(spec, options: CallOptionsV1) {
      deploymentOptions(spec);
      const existing = await readEndpoint(context, spec.name, options.signal);
      if (existing) {
        const ours = existing.endpoint.tags?.[tagNames.managedBy] === managedByValue;
        if (!ours || existing.endpoint.tags?.[tagNames.specHash] !== specHash(spec)) {
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider,
            message: `Endpoint '${spec.name}' already exists ${ours ? 'with a different spec; use update to change it' : 'and was not made by mlscale'}.`,
          });
        }
        if (existing.endpoint.properties.provisioningState === 'Deleting') {
          throw new MlscaleError({
            code: 'Conflict',
            provider,
            retryable: true,
            message: `Endpoint '${spec.name}' is being deleted; deploy again once it is gone.`,
          });
        }
      }
      const snapshot = await converge(spec, existing, options.signal);
      return toDeploymentStatus(context, snapshot, options.signal);
    },

    async doGet(name, options) {
      const snapshot = await readEndpoint(context, name, options.signal);
      return snapshot ? toDeploymentStatus(context, snapshot, options.signal) : undefined;
    },

    async *doList(options) {
      const clients = await context.call('Listing endpoints', async (resolved) => resolved);
      const names: string[] = [];
      for await (const endpoint of clients.machineLearning.onlineEndpoints.list(
        settings.resourceGroup,
        settings.workspace,
        {
          abortSignal: options.signal,
        },
      )) {
        if (endpoint.name && endpoint.tags?.[tagNames.managedBy] === managedByValue)
          names.push(endpoint.name);
      }
      for (const name of names) {
        const snapshot = await readEndpoint(context, name, options.signal);
        if (snapshot) yield await toDeploymentStatus(context, snapshot, options.signal);
      }
    },

    async doUpdate(spec, options) {
      const azureOptions = deploymentOptions(spec);
      const { signal } = options;
      const existing = await readEndpoint(context, spec.name, signal);
      if (!existing) throw notFound(spec.name);
      const previousTraffic = { ...(existing.endpoint.properties.traffic ?? {}) };
      const previousSpec = storedSpec(existing);
      const targets = await resolveTargets(context, spec, signal);
      const created: string[] = [];
      try {
        for (const target of targets) {
          const found = existing.deployments.find(
            (item) => item.name?.toLowerCase() === target.deploymentName.toLowerCase(),
          );
          if (!found) created.push(target.deploymentName);
          await ensureDeployment(spec, azureOptions, target, found, signal);
        }
      } catch (error) {
        // Blue/green: traffic never moved, so removing the new deployments restores the previous state.
        await Promise.allSettled(created.map((name) => deleteDeployment(spec.name, name, undefined)));
        throw rolledBack(error, spec.name, previousTraffic);
      }
      const wanted = Object.fromEntries(targets.map((target) => [target.deploymentName, target.weight]));
      const previousTotal = Object.values(previousTraffic).reduce((sum, value) => sum + value, 0);
      if (spec.rollout && created.length > 0 && previousTotal > 0) {
        for (const step of spec.rollout.steps.filter((value) => value < 100)) {
          const stepStarted = Date.now();
          await putEndpoint(
            previousSpec,
            azureOptions,
            blendTraffic(previousTraffic, wanted, step / 100),
            signal,
          );
          await sleep(spec.rollout.stepSeconds * 1000, signal);
          const observed = await errorRateSince(
            context,
            existing.endpoint.id ?? '',
            created,
            stepStarted,
            signal,
          );
          if (
            observed.requests >= spec.rollout.minRequests &&
            observed.errorRate > spec.rollout.maxErrorRate
          ) {
            await putEndpoint(previousSpec, azureOptions, previousTraffic, signal);
            await Promise.allSettled(created.map((name) => deleteDeployment(spec.name, name, signal)));
            throw new MlscaleError({
              code: 'BackendFailure',
              provider,
              retryable: false,
              message: `Update of '${spec.name}' rolled back at ${step}% traffic: the new version's error rate was ${(observed.errorRate * 100).toFixed(1)}% over ${observed.requests} requests (limit ${(spec.rollout.maxErrorRate * 100).toFixed(1)}%). Traffic is back to ${describeTraffic(previousTraffic)}.`,
            });
          }
        }
      }
      await putEndpoint(spec, azureOptions, wanted, signal);
      const stale = existing.deployments
        .map((deployment) => deployment.name ?? '')
        .filter(
          (name) =>
            name && !targets.some((target) => target.deploymentName.toLowerCase() === name.toLowerCase()),
        );
      for (const name of stale) await deleteDeployment(spec.name, name, signal);
      const snapshot = await readEndpoint(context, spec.name, signal);
      if (!snapshot) throw notFound(spec.name);
      await applyAutoscale(
        snapshot,
        targets.map((target) => target.deploymentName),
        spec.autoscaling ?? null,
        signal,
      );
      return toDeploymentStatus(context, snapshot, signal);
    },

    async doScale(name, replicas, options) {
      const snapshot = await readEndpoint(context, name, options.signal);
      if (!snapshot) throw notFound(name);
      if (replicas < 1) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider,
          message:
            'Invalid replicas: Azure managed online deployments run at least 1 instance; delete the deployment to stop it.',
          issues: [{ path: 'replicas', message: 'expected at least 1 on Azure' }],
        });
      }
      for (const deployment of liveDeployments(snapshot)) {
        if (deployment.name && deployment.sku?.capacity !== replicas) {
          await scaleDeployment(name, deployment.name, replicas, options.signal);
        }
      }
      return status(name, options.signal);
    },

    async doAutoscale(name, policy, options) {
      const snapshot = await readEndpoint(context, name, options.signal);
      if (!snapshot) throw notFound(name);
      const names = liveDeployments(snapshot)
        .map((deployment) => deployment.name ?? '')
        .filter(Boolean);
      await applyAutoscale(snapshot, names, policy, options.signal);
      return status(name, options.signal);
    },

    async doDelete(name, options) {
      const snapshot = await readEndpoint(context, name, options.signal);
      if (!snapshot) return false;
      for (const deployment of snapshot.deployments) {
        if (deployment.name) await removeAutoscale(name, deployment.name, options.signal);
      }
      if (snapshot.endpoint.properties.provisioningState === 'Deleting') return true;
      // Start the delete (Azure deletes the deployments with the endpoint); the client waits through doGet.
      const poller = await context.call(`Deleting endpoint '${name}'`, (clients) =>
        clients.machineLearning.onlineEndpoints.beginDelete(
          settings.resourceGroup,
          settings.workspace,
          name,
          {
            abortSignal: options.signal,
            updateIntervalInMs: settings.pollIntervalMs,
          },
        ),
      );
      poller.stopPolling();
      return true;
    },

    async doPredict(name, request, options) {
      const snapshot = await readEndpoint(context, name, options.signal);
      if (!snapshot) throw notFound(name);
      return scoreRequest(context, snapshot, request, options.signal);
    },
  };
}

function sameTraffic(current: Record<string, number>, wanted: Record<string, number>): boolean {
  const names = new Set([...Object.keys(current), ...Object.keys(wanted)].map((name) => name.toLowerCase()));
  for (const name of names) {
    if ((trafficOf(current, name) ?? 0) !== (trafficOf(wanted, name) ?? 0)) return false;
  }
  return true;
}

function describeTraffic(traffic: Record<string, number>): string {
  const entries = Object.entries(traffic).filter(([, weight]) => weight > 0);
  return entries.length === 0 ? 'none' : entries.map(([name, weight]) => `${name} ${weight}%`).join(', ');
}

function rolledBack(error: unknown, name: string, previousTraffic: Record<string, number>): unknown {
  if (!MlscaleError.isInstance(error) || error.code === 'Aborted') return error;
  return new MlscaleError({
    code: error.code,
    provider,
    retryable: false,
    message: `${error.message} The update of '${name}' was rolled back: traffic stays on ${describeTraffic(previousTraffic)}.`,
    cause: error,
    ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
  });
}
