import type { protos } from '@google-cloud/aiplatform';
import {
  type AutoscalingPolicy,
  abortedError,
  type CallOptionsV1,
  type DeploymentOperationsV1,
  type DeploymentSpec,
  type DeploymentState,
  type DeploymentStatus,
  MlscaleError,
  type PredictRequest,
  type PredictResponse,
  redactText,
  sleep,
  specHash,
  toMlscaleError,
} from '@mlscale/core';
import { fromProtobufValue, type ProtobufValue, toProtobufValue } from '../protobuf-value.js';
import { awaitOperation, callVertex } from './calls.js';
import { type AdapterContext, clientsOf, toDate } from './context.js';
import {
  autoscalingMetricSpecs,
  checkDeploymentSpec,
  dedicatedResources,
  integerPercentages,
  replicaBounds,
} from './deployment-requests.js';
import {
  createEndpoint,
  deleteEndpoint,
  deployModel,
  findEndpoint,
  type IEndpoint,
  listManagedEndpoints,
  mutateDeployedModel,
  settleOperations,
  undeployModel,
  updateEndpoint,
} from './endpoint-calls.js';
import { grpcCode, provider, vertexError } from './errors.js';
import { type ResolvedModel, resolveModel } from './model-resolver.js';
import { labelFilter, labelKeys, locationName, tagLabels } from './names.js';
import { deploymentOptions } from './provider-options.js';
import { deployedModelHealth } from './rollout-health.js';
import { describeSpec, sameExceptScaling, sameResources, storedSpec } from './stored-spec.js';
import { fromPredictions, toInstances } from './tensors.js';
import { blend, positiveSplit, sameSplit } from './traffic-split.js';

/** Work started by a mutating call and finished in the background; `doGet` reports it. */
interface Task {
  state: Exclude<DeploymentState, 'InService' | 'Failed'>;
  spec: DeploymentSpec;
  hash: string;
  running: boolean;
  error?: MlscaleError;
  startedAt: Date;
}

/** One model version the spec wants served, with its share of traffic. */
interface Target {
  model: ResolvedModel;
  weight: number;
  /** Deterministic: the same model version on the same machines gets the same name, so a rerun finds it. */
  displayName: string;
  resources: protos.google.cloud.aiplatform.v1.IDedicatedResources;
}

export function createDeploymentOperations(context: AdapterContext): DeploymentOperationsV1 {
  const { settings } = context;
  const tasks = new Map<string, Task>();

  function notFound(name: string): MlscaleError {
    return new MlscaleError({
      code: 'NotFound',
      provider,
      message: `No deployment named '${name}' on Vertex AI (${settings.project}/${settings.location}).`,
    });
  }

  /** Runs `work` in the background as the deployment's current task. */
  function startTask(
    name: string,
    state: Task['state'],
    spec: DeploymentSpec,
    work: (task: Task) => Promise<void>,
  ): Task {
    const task: Task = { state, spec, hash: specHash(spec), running: true, startedAt: new Date() };
    tasks.set(name, task);
    work(task).then(
      () => {
        task.running = false;
        if (tasks.get(name) === task) tasks.delete(name);
      },
      (error: unknown) => {
        task.running = false;
        task.error = toMlscaleError(error, provider);
      },
    );
    return task;
  }

  function assertIdle(name: string): void {
    const task = tasks.get(name);
    if (task?.running) {
      throw new MlscaleError({
        code: 'Conflict',
        provider,
        retryable: false,
        message: `Deployment '${name}' is ${task.state}; wait for it to finish before changing it again.`,
      });
    }
  }

  async function resolveTargets(spec: DeploymentSpec, signal: AbortSignal): Promise<Target[]> {
    const entries = spec.traffic ?? [{ model: spec.model, weight: 100 }];
    const resources = dedicatedResources(spec, settings);
    const weights = integerPercentages(entries.map((entry) => entry.weight));
    const targets: Target[] = [];
    for (const [index, entry] of entries.entries()) {
      const model = await resolveModel(
        context,
        entry.model,
        spec.traffic ? `traffic[${index}].model` : 'model',
        spec,
        signal,
      );
      const key = specHash({
        model: model.versionName,
        machineSpec: resources.machineSpec,
        spot: resources.spot ?? false,
      }).slice(0, 8);
      targets.push({ model, weight: weights[index]!, displayName: `${model.label}-${key}`, resources });
    }
    return targets;
  }

  /** Deploys the targets not on the endpoint yet, each with no traffic unless it is the first model. */
  async function deployMissing(
    endpoint: IEndpoint,
    targets: Target[],
    signal: AbortSignal,
  ): Promise<IEndpoint> {
    let current = endpoint;
    for (const target of targets) {
      if (current.deployedModels?.some((deployed) => deployed.displayName === target.displayName)) continue;
      const existingSplit = positiveSplit(current.trafficSplit);
      const split = Object.keys(existingSplit).length === 0 ? { '0': 100 } : { '0': 0, ...existingSplit };
      await deployModel(
        context,
        current.name!,
        {
          model: target.model.versionName,
          displayName: target.displayName,
          dedicatedResources: target.resources,
        },
        split,
        signal,
      );
      current = await reload(current.name!, signal);
    }
    return current;
  }

  async function reload(endpointName: string, signal: AbortSignal): Promise<IEndpoint> {
    const clients = await clientsOf(context);
    const [endpoint] = await callVertex(
      settings,
      'GetEndpoint',
      () => clients.endpoints.getEndpoint({ name: endpointName }),
      { signal, idempotent: true },
    );
    return endpoint;
  }

  async function setTraffic(
    endpoint: IEndpoint,
    split: Record<string, number>,
    signal: AbortSignal,
  ): Promise<IEndpoint> {
    return updateEndpoint(context, { name: endpoint.name!, trafficSplit: split }, ['traffic_split'], signal);
  }

  /** The split that gives each target its weight, by deployed-model id. */
  function targetSplit(endpoint: IEndpoint, targets: Target[]): Record<string, number> {
    const split: Record<string, number> = {};
    for (const target of targets) {
      const deployed = endpoint.deployedModels?.find(
        (candidate) => candidate.displayName === target.displayName,
      );
      if (deployed?.id) split[deployed.id] = (split[deployed.id] ?? 0) + target.weight;
    }
    return split;
  }

  async function writeSpec(
    endpoint: IEndpoint,
    spec: DeploymentSpec,
    hash: string,
    signal: AbortSignal,
  ): Promise<void> {
    await updateEndpoint(
      context,
      { name: endpoint.name!, description: describeSpec(spec, hash), labels: endpointLabels(spec) },
      ['description', 'labels'],
      signal,
    );
  }

  function endpointLabels(spec: DeploymentSpec): Record<string, string> {
    return { ...tagLabels(spec.tags), [labelKeys.managed]: 'true', [labelKeys.deployment]: spec.name };
  }

  /** Upload (or find) models, create (or find) the endpoint, deploy what is missing, set the split. */
  async function converge(task: Task, signal: AbortSignal): Promise<void> {
    const { spec, hash } = task;
    const targets = await resolveTargets(spec, signal);
    let endpoint = await findEndpoint(context, spec.name, signal);
    if (!endpoint) {
      const options = deploymentOptions(spec.providerOptions?.gcp);
      endpoint = await createEndpoint(
        context,
        {
          displayName: spec.name,
          description: describeSpec(spec, hash),
          labels: endpointLabels(spec),
          ...(spec.encryption ? { encryptionSpec: { kmsKeyName: spec.encryption.keyId } } : {}),
          ...(spec.network?.private && options.network ? { network: options.network } : {}),
        },
        signal,
      );
    } else {
      await settleOperations(context, endpoint.name!, signal);
      endpoint = await reload(endpoint.name!, signal);
      if (storedSpec(endpoint)?.hash !== hash) await writeSpec(endpoint, spec, hash, signal);
    }
    endpoint = await deployMissing(endpoint, targets, signal);
    const split = targetSplit(endpoint, targets);
    if (!sameSplit(split, positiveSplit(endpoint.trafficSplit))) await setTraffic(endpoint, split, signal);
  }

  /**
   * Moves traffic from the models serving now to the spec's, in the rollout's steps (all at once without
   * one), watching the new models' error rate between steps; past `maxErrorRate` the previous split is
   * restored and the new models undeployed. Then models no longer wanted are undeployed.
   */
  async function rollOut(task: Task, endpointName: string, signal: AbortSignal): Promise<void> {
    const { spec, hash } = task;
    const targets = await resolveTargets(spec, signal);
    let endpoint = await reload(endpointName, signal);
    const previousSplit = positiveSplit(endpoint.trafficSplit);
    const before = new Set((endpoint.deployedModels ?? []).map((deployed) => deployed.id!));
    endpoint = await deployMissing(endpoint, targets, signal);
    const added = (endpoint.deployedModels ?? [])
      .filter((deployed) => !before.has(deployed.id!))
      .map((deployed) => deployed.id!);
    const finalSplit = targetSplit(endpoint, targets);
    const steps = spec.rollout?.steps ?? [100];
    for (const step of steps) {
      const split = blend(previousSplit, finalSplit, step / 100);
      endpoint = await setTraffic(endpoint, split, signal);
      if (step === 100 || !spec.rollout) continue;
      const stepStarted = new Date();
      await sleep(spec.rollout.stepSeconds * 1000, signal);
      if (added.length === 0) continue;
      const health = await deployedModelHealth(context, endpointName, added, stepStarted, signal);
      if (
        health.requests >= spec.rollout.minRequests &&
        health.errors / Math.max(1, health.requests) > spec.rollout.maxErrorRate
      ) {
        task.state = 'RollingBack';
        await setTraffic(endpoint, previousSplit, signal);
        for (const id of added) await undeployModel(context, endpointName, id, undefined, signal);
        throw new MlscaleError({
          code: 'BackendFailure',
          provider,
          retryable: false,
          message: `Update of '${spec.name}' rolled back at ${step}% traffic: the new version failed ${health.errors} of ${health.requests} requests (more than ${spec.rollout.maxErrorRate * 100}%). The previous split is restored.`,
        });
      }
    }
    // Models left without traffic are undeployed; kept ones get the spec's replica counts.
    endpoint = await reload(endpointName, signal);
    for (const deployed of endpoint.deployedModels ?? []) {
      if (!(deployed.id! in finalSplit)) {
        await undeployModel(context, endpointName, deployed.id!, finalSplit, signal);
      } else if (!added.includes(deployed.id!) && !sameResources(deployed, targets[0]!.resources)) {
        await mutateDeployedModel(context, endpointName, deployed.id!, targets[0]!.resources, signal);
      }
    }
    await writeSpec(endpoint, spec, hash, signal);
  }

  async function mutateAll(task: Task, endpointName: string, signal: AbortSignal): Promise<void> {
    const endpoint = await reload(endpointName, signal);
    const resources = dedicatedResources(task.spec, settings);
    for (const deployed of endpoint.deployedModels ?? []) {
      await mutateDeployedModel(context, endpointName, deployed.id!, resources, signal);
    }
    await writeSpec(endpoint, task.spec, task.hash, signal);
  }

  /** Undeploys everything, deletes the endpoint, then the models mlscale uploaded for this deployment. */
  async function tearDown(name: string, endpoint: IEndpoint, signal: AbortSignal): Promise<void> {
    const deployed = endpoint.deployedModels ?? [];
    if (deployed.length > 0 && Object.keys(positiveSplit(endpoint.trafficSplit)).length > 0) {
      await setTraffic(endpoint, {}, signal);
    }
    for (const model of deployed) await undeployModel(context, endpoint.name!, model.id!, undefined, signal);
    // The models first, so the deployment reads as gone only once everything is.
    const clients = await clientsOf(context);
    const [models] = await callVertex(
      settings,
      'ListModels',
      () =>
        clients.models.listModels({
          parent: locationName(settings),
          filter: labelFilter(labelKeys.deployment, name),
        }),
      { signal, idempotent: true },
    );
    for (const model of models) {
      try {
        const [operation] = await callVertex(
          settings,
          'DeleteModel',
          () => clients.models.deleteModel({ name: model.name! }),
          { signal },
        );
        await awaitOperation(
          settings,
          `DeleteModel ${model.name}`,
          () => clients.models.checkDeleteModelProgress(operation.name!),
          signal,
        );
      } catch (error) {
        // A model also deployed elsewhere stays: it is not this deployment's to remove.
        if (!MlscaleError.hasCode(error, 'Conflict')) throw error;
      }
    }
    await deleteEndpoint(context, endpoint.name!, signal);
  }

  function statusOf(
    name: string,
    endpoint: IEndpoint | undefined,
    task: Task | undefined,
  ): DeploymentStatus | undefined {
    const stored = endpoint ? storedSpec(endpoint) : undefined;
    const spec = task?.running || !stored ? task?.spec : stored.spec;
    if (!spec) return undefined;
    const hash = task?.running || !stored ? task!.hash : stored.hash;
    const deployedModels = endpoint?.deployedModels ?? [];
    const split = positiveSplit(endpoint?.trafficSplit);
    let state: DeploymentState = 'InService';
    let stateReason: string | undefined;
    if (task?.running) state = task.state;
    else if (task?.error) {
      state = 'Failed';
      stateReason = redactText(task.error.message);
    } else if (deployedModels.length === 0) {
      state = 'Failed';
      stateReason = `no model is deployed on endpoint ${endpoint?.name} (an interrupted deploy? deploy again to finish it)`;
    }
    const serving = deployedModels.filter(
      (deployed) => (split[deployed.id!] ?? 0) > 0 || Object.keys(split).length === 0,
    );
    const ready = serving.reduce(
      (sum, deployed) => sum + Number(deployed.dedicatedResources?.minReplicaCount ?? 0),
      0,
    );
    const desiredPerModel = spec.autoscaling
      ? replicaBounds(spec.replicas, spec.autoscaling).min
      : spec.replicas;
    const apiHost = settings.apiEndpoint ?? `${settings.location}-aiplatform.googleapis.com`;
    const created = toDate(endpoint?.createTime) ?? task?.startedAt ?? new Date();
    return {
      name,
      provider,
      state,
      ...(stateReason ? { stateReason } : {}),
      replicas: { desired: Math.max(desiredPerModel, desiredPerModel * (spec.traffic?.length ?? 1)), ready },
      ...(spec.autoscaling ? { autoscaling: spec.autoscaling } : {}),
      traffic: deployedModels.map((deployed) => ({
        version: deployed.displayName ?? deployed.id!,
        weight: split[deployed.id!] ?? 0,
      })),
      ...(endpoint?.name
        ? {
            endpoint: {
              url: `https://${apiHost}${settings.port ? `:${settings.port}` : ''}/v1/${endpoint.name}:predict`,
            },
          }
        : {}),
      ...(spec.instance?.accelerator
        ? {
            device: {
              requested: spec.instance.accelerator.type,
              used: String(
                deployedModels[0]?.dedicatedResources?.machineSpec?.acceleratorType ??
                  spec.instance.accelerator.type,
              ),
            },
          }
        : {}),
      spec,
      specHash: hash,
      createdAt: created,
      updatedAt: toDate(endpoint?.updateTime) ?? created,
      details: {
        ...(endpoint?.name ? { endpoint: endpoint.name } : {}),
        deployedModels: deployedModels.map((deployed) => ({
          id: deployed.id,
          model: deployed.model,
          modelVersionId: deployed.modelVersionId,
          displayName: deployed.displayName,
        })),
      },
    };
  }

  async function requireEndpoint(name: string, signal?: AbortSignal): Promise<IEndpoint> {
    const endpoint = await findEndpoint(context, name, signal);
    if (!endpoint) throw notFound(name);
    return endpoint;
  }

  function backgroundSignal(): AbortSignal {
    return context.closing;
  }

  /** Changes replica counts or autoscaling in place. */
  async function changeScaling(
    name: string,
    change: (spec: DeploymentSpec) => DeploymentSpec,
    options: CallOptionsV1,
  ): Promise<DeploymentStatus> {
    const endpoint = await requireEndpoint(name, options.signal);
    assertIdle(name);
    const stored = storedSpec(endpoint);
    if (!stored) throw notFound(name);
    const spec = change(stored.spec);
    dedicatedResources(spec, settings); // throws InvalidSpec before anything changes
    const task = startTask(name, 'Updating', spec, (running) =>
      mutateAll(running, endpoint.name!, backgroundSignal()),
    );
    return statusOf(name, endpoint, task)!;
  }

  return {
    async doCreate(spec, options) {
      checkDeploymentSpec(spec, settings);
      const hash = specHash(spec);
      const current = tasks.get(spec.name);
      if (current?.running) {
        if (current.hash === hash && current.state === 'Creating')
          return statusOf(spec.name, undefined, current)!;
        assertIdle(spec.name);
      }
      const endpoint = await findEndpoint(context, spec.name, options.signal);
      const stored = endpoint ? storedSpec(endpoint) : undefined;
      if (endpoint && (endpoint.deployedModels?.length ?? 0) > 0) {
        if (stored?.hash === hash && !current?.error) return statusOf(spec.name, endpoint, undefined)!;
        if (stored?.hash !== hash) {
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider,
            message: `Deployment '${spec.name}' exists with a different spec (endpoint ${endpoint.name}); use update to change it.`,
          });
        }
      }
      const task = startTask(spec.name, 'Creating', spec, (running) => converge(running, backgroundSignal()));
      return statusOf(spec.name, endpoint, task)!;
    },

    async doGet(name, options) {
      const endpoint = await findEndpoint(context, name, options.signal);
      const task = tasks.get(name);
      if (!endpoint && task && !task.running && task.state === 'Deleting' && !task.error) {
        tasks.delete(name);
        return undefined;
      }
      if (!endpoint && !(task && task.state === 'Creating')) return undefined;
      return statusOf(name, endpoint, task);
    },

    async *doList(options) {
      for (const endpoint of await listManagedEndpoints(context, options.signal)) {
        const name = endpoint.labels?.[labelKeys.deployment];
        if (!name) continue;
        const status = statusOf(name, endpoint, tasks.get(name));
        if (status) yield status;
      }
    },

    async doUpdate(spec, options) {
      checkDeploymentSpec(spec, settings);
      const endpoint = await requireEndpoint(spec.name, options.signal);
      assertIdle(spec.name);
      const stored = storedSpec(endpoint);
      const hash = specHash(spec);
      if (stored?.hash === hash && (endpoint.deployedModels?.length ?? 0) > 0) {
        tasks.delete(spec.name);
        return statusOf(spec.name, endpoint, undefined)!;
      }
      const onlyScaling = stored !== undefined && sameExceptScaling(stored.spec, spec);
      const task = startTask(spec.name, 'Updating', spec, (running) =>
        onlyScaling
          ? mutateAll(running, endpoint.name!, backgroundSignal())
          : rollOut(running, endpoint.name!, backgroundSignal()),
      );
      return statusOf(spec.name, endpoint, task)!;
    },

    doScale(name, replicas, options) {
      return changeScaling(
        name,
        (spec) => {
          const { autoscaling: _removed, ...rest } = spec;
          return { ...rest, replicas };
        },
        options,
      );
    },

    doAutoscale(name, policy: AutoscalingPolicy | null, options) {
      if (policy) autoscalingMetricSpecs(policy);
      return changeScaling(
        name,
        (spec) => {
          const { autoscaling: _removed, ...rest } = spec;
          if (!policy) return rest;
          const replicas = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, spec.replicas, 1));
          return { ...rest, replicas, autoscaling: policy };
        },
        options,
      );
    },

    async doDelete(name, options) {
      const endpoint = await findEndpoint(context, name, options.signal);
      if (!endpoint) {
        const task = tasks.get(name);
        if (task && !task.running) tasks.delete(name);
        return false;
      }
      const current = tasks.get(name);
      if (current?.running && current.state === 'Deleting') return true;
      assertIdle(name);
      const stored = storedSpec(endpoint);
      startTask(name, 'Deleting', stored?.spec ?? ({ name } as DeploymentSpec), () =>
        tearDown(name, endpoint, backgroundSignal()),
      );
      return true;
    },

    async doPredict(name, request: PredictRequest, options): Promise<PredictResponse> {
      const endpoint = await requireEndpoint(name, options.signal);
      const instances = toInstances(request);
      const clients = await clientsOf(context);
      let response: protos.google.cloud.aiplatform.v1.IPredictResponse;
      // google-gax unary calls take no AbortSignal (and aiplatform's promise has no cancel()): the
      // caller gets Aborted at once and the call's late answer is dropped.
      const pending = clients.predictions.predict({
        endpoint: endpoint.name!,
        instances: instances.map(toProtobufValue) as protos.google.protobuf.IValue[],
      });
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortedError(options.signal, `Predict on '${name}'`));
        if (options.signal?.aborted) onAbort();
        else options.signal?.addEventListener('abort', onAbort, { once: true });
      });
      pending.catch(() => undefined);
      try {
        [response] = await Promise.race([pending, aborted]);
      } catch (error) {
        if (MlscaleError.hasCode(error, 'Aborted')) throw error;
        if (grpcCode(error) === 9)
          throw new MlscaleError({
            code: 'Conflict',
            provider,
            message: `Deployment '${name}' is not serving yet: ${redactText(String((error as { details?: string }).details ?? error))}`,
          });
        throw vertexError(error, 'Predict');
      } finally {
        if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      }
      const predictions = (response.predictions ?? []).map((value) =>
        fromProtobufValue(value as ProtobufValue),
      );
      return {
        ...(request.id ? { id: request.id } : {}),
        modelName: name,
        ...(response.modelVersionId ? { modelVersion: response.modelVersionId } : {}),
        outputs: fromPredictions(predictions, request.outputs),
      };
    },
  };
}
