import { createHash } from 'node:crypto';
import type {
  AlertStatus,
  BackendCapabilitiesV1,
  BackendV1,
  CallOptionsV1,
  DeploymentStatus,
  LogEntry,
  MetricQueryResult,
  TrainingJobStatus,
} from '../backend/v1/index.js';
import type { ConformanceCloud } from '../conformance/conformance-cloud.js';
import { abortedError, MlscaleError } from '../errors.js';
import { convergenceFields, type ObservedDeployment } from '../provider-utils/deployment-convergence.js';
import {
  type DeploymentRecord,
  markStarted,
  recordFromTags,
  recordToTags,
  requestDeletion,
  requestSpec,
  rolloutStarted,
  staleRecordTagKeys,
} from '../provider-utils/deployment-record.js';
import { reconcileStep, type StepOutcome } from '../provider-utils/reconcile-step.js';
import { createSecretMemory } from '../provider-utils/secret-memory.js';
import { sealSecrets, secretHashKey } from '../secrets/seal-secrets.js';
import type { ModelSignature } from '../signature/model-signature.js';
import type {
  AlertRule,
  DeploymentSpec,
  ModelVersion,
  PredictRequest,
  PredictResponse,
  TrainingJobSpec,
} from '../spec/index.js';
import { canonicalJson } from '../spec-hash.js';
import {
  createMemoryCloud,
  type MemoryCloud,
  type MemoryEndpoint,
  type MemoryEndpointConfig,
} from './memory-cloud.js';

/** One recorded backend call. */
export interface RecordedCall {
  /** `deployments.doCreate`, `training.doGet`, ... */
  method: string;
  args: unknown[];
}

export interface InMemoryBackendOptions {
  /** Provider id. Default `memory`. */
  provider?: string;
  /** Capabilities to override; all are on by default. */
  capabilities?: Partial<BackendCapabilitiesV1>;
  /** How many cloud reads a deployment stays Creating/Updating before InService. Default 1. */
  stepsToInService?: number;
  /** How many `doGet` calls a job spends in each of Pending and Running. Default 1. */
  stepsPerJobState?: number;
  /** Makes a deployment's model fail to start: return the failure reason, or undefined to succeed. */
  failDeployment?: (spec: DeploymentSpec) => string | undefined;
  /** Makes a training job fail: return the failure reason, or undefined to succeed. */
  failTraining?: (spec: TrainingJobSpec) => string | undefined;
  /**
   * Model signatures by the model's label (its `uri`, or `name@version`), for the client's signature
   * gate. A model without one has an unknown signature (the update is not checked).
   */
  signatures?: Record<string, ModelSignature>;
  /**
   * The cloud to keep deployments in. Two backends given the same cloud behave as two processes using one
   * cloud account (what restart tests need). Default: a cloud of the backend's own.
   */
  cloud?: MemoryCloud;
}

/** A scripted failure: thrown by the next `times` calls of `method`. */
interface ScriptedFailure {
  method: string;
  error: () => unknown;
  times: number;
}

/** The in-memory backend, with what tests use to inspect and script it. */
export interface InMemoryBackend extends BackendV1 {
  /** Every call, in order. */
  readonly calls: RecordedCall[];
  /** Makes the next `times` calls of `method` (`deployments.doCreate`, ...) throw `error`. */
  failNext(method: string, error: unknown | (() => unknown), times?: number): void;
  /** Calls of one method. */
  callsTo(method: string): RecordedCall[];
  /** The fake cloud behind deployments (share it with another backend to act as a second process). */
  readonly cloud: MemoryCloud;
  /** The cloud, as the conformance suite scripts and inspects it. */
  readonly conformanceCloud: ConformanceCloud;
}

interface JobRecord {
  status: TrainingJobStatus;
  steps: number;
  failure?: string;
  stopRequested: boolean;
}

/** Tags the in-memory backend keeps its record under. */
const recordLayout = { prefix: 'mlscale:record-', valueLength: 256, maxChunks: 40 };
const managedTag = 'mlscale:deployment';

/** A model reference as the version label the cloud runs. */
function modelLabel(model: DeploymentSpec['model']): string {
  return 'uri' in model ? model.uri : `${model.name}@${model.version}`;
}

/**
 * A backend that keeps everything in memory, for testing code that uses the client and as the
 * reference implementation of the convergence contract: deployments live in a small fake cloud
 * (`createMemoryCloud`) with the record in the endpoint's tags, converge through `reconcileStep`, and
 * answer predictions with 2 × each input value, so answers are checkable without a model runtime. It
 * records calls and can be scripted to fail, at the backend (`failNext`) or in the cloud
 * (`conformanceCloud.injectFault`).
 */
export function createInMemoryBackend(options: InMemoryBackendOptions = {}): InMemoryBackend {
  const provider = options.provider ?? 'memory';
  const stepsPerJobState = options.stepsPerJobState ?? 1;
  const calls: RecordedCall[] = [];
  const failures: ScriptedFailure[] = [];
  const secrets = createSecretMemory();
  const specsByConfig = new Map<string, DeploymentSpec>();
  const cloud =
    options.cloud ??
    createMemoryCloud({
      provider,
      stepsToInService: Math.max(0, (options.stepsToInService ?? 1) - 1),
      failure: (_endpoint, config) => {
        const spec = specsByConfig.get(canonicalJson(config));
        return spec ? options.failDeployment?.(spec) : undefined;
      },
    });
  const jobs = new Map<string, JobRecord>();
  const models = new Map<string, ModelVersion[]>();
  const alerts = new Map<string, AlertStatus>();
  const requestLog: { deployment: string; time: Date; status: number }[] = [];

  const capabilities: BackendCapabilitiesV1 = {
    serverless: true,
    scaleToZero: true,
    autoscaling: true,
    spot: true,
    distributed: true,
    gpu: true,
    trafficSplit: true,
    privateNetworking: true,
    customerManagedKeys: true,
    training: true,
    modelRegistry: true,
    monitoring: true,
    ...options.capabilities,
  };

  /** Records the call, honours the signal and throws a scripted failure if one is due. */
  function enter(method: string, callOptions: CallOptionsV1, ...args: unknown[]): void {
    calls.push({ method, args });
    if (callOptions.signal?.aborted) throw abortedError(callOptions.signal, method);
    const index = failures.findIndex((failure) => failure.method === method);
    if (index < 0) return;
    const failure = failures[index]!;
    failure.times -= 1;
    if (failure.times <= 0) failures.splice(index, 1);
    throw failure.error();
  }

  const notFound = (kind: string, name: string) =>
    new MlscaleError({ code: 'NotFound', provider, message: `No ${kind} named '${name}'.` });

  /** What the cloud runs for a spec: its model and container environment (values, not seals). */
  function configFor(spec: DeploymentSpec): MemoryEndpointConfig {
    const config = { model: modelLabel(spec.model), environment: { ...(spec.environment ?? {}) } };
    specsByConfig.set(canonicalJson(config), spec);
    return config;
  }

  /** Whether the endpoint runs the spec's model and environment (compared sealed). */
  function runsConfigOf(endpoint: MemoryEndpoint, spec: DeploymentSpec): boolean {
    const key = secretHashKey(spec.name);
    return (
      endpoint.config.model === modelLabel(spec.model) &&
      canonicalJson(sealSecrets(endpoint.config.environment, key).sealed) ===
        canonicalJson(sealSecrets(spec.environment ?? {}, key).sealed)
    );
  }

  /** The serving container's own copy of a value, for sealed values this process has not seen. */
  function containerLookup(endpoint: MemoryEndpoint | undefined) {
    return (path: string) =>
      path.startsWith('environment.')
        ? endpoint?.config.environment[path.slice('environment.'.length)]
        : undefined;
  }

  const recordOf = (endpoint: MemoryEndpoint): DeploymentRecord | undefined =>
    endpoint.tags[managedTag] === endpoint.name
      ? recordFromTags(endpoint.tags, recordLayout.prefix)
      : undefined;

  /**
   * Runs one request to the cloud; an abort that came while it ran throws after it, as a real client's
   * request does when the process gives up on the answer (the cloud has acted all the same).
   */
  function request<T>(signal: AbortSignal | undefined, what: string, run: () => T): T {
    const result = run();
    if (signal?.aborted) throw abortedError(signal, what);
    return result;
  }

  function saveRecord(
    endpoint: MemoryEndpoint,
    record: DeploymentRecord,
    signal: AbortSignal | undefined,
  ): void {
    const tags = recordToTags(record, recordLayout);
    request(signal, 'TagEndpoint', () =>
      cloud.tagEndpoint(endpoint.name, tags, staleRecordTagKeys(endpoint.tags, tags, recordLayout.prefix)),
    );
  }

  function initialReplicas(spec: DeploymentSpec): number {
    return spec.autoscaling ? Math.max(spec.replicas, spec.autoscaling.minReplicas) : spec.replicas;
  }

  /** What the cloud has, against what the record asks for. */
  function observe(endpoint: MemoryEndpoint, record: DeploymentRecord): ObservedDeployment {
    const state = endpoint.state;
    const reason = endpoint.failureReason;
    if (state !== 'InService') return { state, reason, matchesDesired: false };
    const desired = record.desired;
    const registered = autoscalingOf(endpoint.name);
    const differences: string[] = [];
    if (!runsConfigOf(endpoint, desired)) differences.push('the model or its environment is not rolled out');
    if (!desired.autoscaling && endpoint.replicas !== desired.replicas)
      differences.push(`${endpoint.replicas} replicas run, ${desired.replicas} asked for`);
    if (desired.autoscaling && !sameAutoscaling(registered, desired.autoscaling))
      differences.push('autoscaling is not registered as asked');
    if (!desired.autoscaling && registered) differences.push('autoscaling is still registered');
    return {
      state,
      reason,
      matchesDesired: differences.length === 0,
      ...(differences.length ? { difference: differences.join('; ') } : {}),
    };
  }

  const autoscalingOf = (name: string) => cloud.describeAutoscaling(name);

  function sameAutoscaling(
    registered: { minReplicas: number; maxReplicas: number; target: number } | undefined,
    policy: NonNullable<DeploymentSpec['autoscaling']>,
  ): boolean {
    return (
      registered !== undefined &&
      registered.minReplicas === policy.minReplicas &&
      registered.maxReplicas === policy.maxReplicas &&
      registered.target === policy.target.value
    );
  }

  function statusOf(endpoint: MemoryEndpoint): DeploymentStatus | undefined {
    const record = recordOf(endpoint);
    if (!record) return undefined;
    const observed = observe(endpoint, record);
    const fields = convergenceFields(record, observed);
    const registered = autoscalingOf(endpoint.name);
    const desired = record.desired;
    return {
      name: endpoint.name,
      provider,
      ...fields,
      replicas: {
        desired: desired.autoscaling
          ? Math.max(endpoint.replicas, desired.autoscaling.minReplicas)
          : desired.replicas,
        ready: endpoint.state === 'InService' || endpoint.state === 'Updating' ? endpoint.replicas : 0,
      },
      ...(registered && desired.autoscaling ? { autoscaling: desired.autoscaling } : {}),
      traffic: [{ version: endpoint.config.model, weight: 100 }],
      endpoint: { url: `memory://${endpoint.name}` },
      device: { requested: desired.instance?.accelerator ? 'gpu' : 'cpu', used: 'cpu' },
      createdAt: endpoint.createdAt,
      updatedAt: endpoint.updatedAt,
      details: { endpointState: endpoint.state, model: endpoint.config.model },
    };
  }

  /** One step toward the record: roll the model out, set capacity, register autoscaling, or delete. */
  function advance(
    record: DeploymentRecord,
    endpoint: MemoryEndpoint,
    signal: AbortSignal | undefined,
  ): StepOutcome {
    const { name } = endpoint;
    if (record.deleting) {
      if (autoscalingOf(name)) request(signal, 'DeleteAutoscaling', () => cloud.deleteAutoscaling(name));
      if (endpoint.state !== 'Deleting') request(signal, 'DeleteEndpoint', () => cloud.deleteEndpoint(name));
      return 'progressing';
    }
    if (endpoint.state !== 'InService') return 'progressing';
    const desired = record.desired;
    if (!runsConfigOf(endpoint, desired)) {
      if (rolloutStarted(record) && endpoint.failureReason) {
        throw new MlscaleError({
          code: 'BackendFailure',
          provider,
          retryable: false,
          message: `The cloud rolled the update back: ${endpoint.failureReason}`,
        });
      }
      const missing = secrets
        .missing(desired)
        .filter((path) => containerLookup(endpoint)(path) === undefined);
      if (missing.length)
        return {
          blocked: `the values behind ${missing.join(', ')} are not known here; run update with them`,
        };
      const config = configFor(secrets.unseal(desired, containerLookup(endpoint)));
      request(signal, 'UpdateEndpoint', () => cloud.updateEndpoint(name, config));
      saveRecord(endpoint, markStarted(record), signal);
      return 'progressing';
    }
    if (!desired.autoscaling && endpoint.replicas !== desired.replicas) {
      request(signal, 'UpdateCapacity', () => cloud.updateCapacity(name, desired.replicas));
      return 'progressing';
    }
    const registered = autoscalingOf(name);
    const policy = desired.autoscaling;
    if (policy && !sameAutoscaling(registered, policy)) {
      request(signal, 'PutAutoscaling', () =>
        cloud.putAutoscaling(name, {
          minReplicas: policy.minReplicas,
          maxReplicas: policy.maxReplicas,
          target: policy.target.value,
        }),
      );
    } else if (!policy && registered) {
      request(signal, 'DeleteAutoscaling', () => cloud.deleteAutoscaling(name));
    }
    return 'converged';
  }

  function existing(name: string): { endpoint: MemoryEndpoint; record: DeploymentRecord } {
    const endpoint = cloud.describeEndpoint(name);
    const record = endpoint ? recordOf(endpoint) : undefined;
    if (!endpoint || !record || record.deleting) throw notFound('deployment', name);
    return { endpoint, record };
  }

  function jobAdvance(record: JobRecord): TrainingJobStatus {
    const { status } = record;
    if (status.state === 'Completed' || status.state === 'Failed' || status.state === 'Stopped')
      return status;
    record.steps += 1;
    const now = new Date();
    if (record.stopRequested) {
      record.status = { ...status, state: 'Stopped', secondaryStatus: 'Stopped', endedAt: now };
    } else if (status.state === 'Pending' && record.steps >= stepsPerJobState) {
      record.status = { ...status, state: 'Running', secondaryStatus: 'Training', startedAt: now };
      record.steps = 0;
    } else if (status.state === 'Running' && record.steps >= stepsPerJobState) {
      const seconds = Math.max(1, Math.round((now.getTime() - (status.startedAt ?? now).getTime()) / 1000));
      record.status = record.failure
        ? {
            ...status,
            state: 'Failed',
            secondaryStatus: 'Failed',
            failureReason: record.failure,
            endedAt: now,
            trainingSeconds: seconds,
            billableSeconds: seconds,
          }
        : {
            ...status,
            state: 'Completed',
            secondaryStatus: 'Completed',
            endedAt: now,
            trainingSeconds: seconds,
            billableSeconds: seconds,
            modelUri: `memory://jobs/${status.name}/model`,
          };
    }
    return record.status;
  }

  async function* iterate<T>(items: T[]): AsyncIterable<T> {
    for (const item of items) yield item;
  }

  const backend: InMemoryBackend = {
    specificationVersion: 'v1',
    provider,
    capabilities,
    calls,
    cloud,
    conformanceCloud: cloud.conformance,
    failNext(method, error, times = 1) {
      failures.push({
        method,
        error: typeof error === 'function' ? (error as () => unknown) : () => error,
        times,
      });
    },
    callsTo(method) {
      return calls.filter((call) => call.method === method);
    },

    deployments: {
      async doCreate(spec, callOptions) {
        enter('deployments.doCreate', callOptions, spec);
        secrets.remember(spec);
        const endpoint = cloud.describeEndpoint(spec.name);
        if (endpoint) {
          const record = recordOf(endpoint);
          if (record?.deleting) {
            throw new MlscaleError({
              code: 'Conflict',
              provider,
              retryable: true,
              message: `Deployment '${spec.name}' is being deleted; deploy it again once it is gone.`,
            });
          }
          const next = record ? requestSpec(record, spec) : undefined;
          if (!record || !next || next.desiredHash !== record.desiredHash) {
            throw new MlscaleError({
              code: 'AlreadyExists',
              provider,
              message: `Deployment '${spec.name}' already exists with a different spec; use update to change it.`,
            });
          }
          if (record.failure) saveRecord(endpoint, next, callOptions.signal);
          return statusOf(cloud.peekEndpoint(spec.name)!)!;
        }
        const record = requestSpec(undefined, spec);
        const runnable = secrets.unseal(spec);
        request(callOptions.signal, 'CreateEndpoint', () =>
          cloud.createEndpoint(spec.name, configFor(runnable), initialReplicas(spec), {
            [managedTag]: spec.name,
            ...recordToTags(record, recordLayout),
          }),
        );
        return statusOf(cloud.peekEndpoint(spec.name)!)!;
      },
      async doUpdate(spec, callOptions) {
        enter('deployments.doUpdate', callOptions, spec);
        secrets.remember(spec);
        const { endpoint, record } = existing(spec.name);
        // Sealed values must stand for values known here or in the serving container.
        secrets.unseal(spec, containerLookup(endpoint));
        const next = requestSpec(record, spec);
        if (next.desiredHash !== record.desiredHash || record.failure)
          saveRecord(endpoint, next, callOptions.signal);
        return statusOf(cloud.peekEndpoint(spec.name)!)!;
      },
      async doDelete(name, callOptions) {
        enter('deployments.doDelete', callOptions, name);
        const endpoint = cloud.describeEndpoint(name);
        const record = endpoint ? recordOf(endpoint) : undefined;
        if (!endpoint || !record) return false;
        if (!record.deleting) saveRecord(endpoint, requestDeletion(record), callOptions.signal);
        return true;
      },
      async doReconcile(name, callOptions) {
        enter('deployments.doReconcile', callOptions, name);
        return reconcileStep(
          {
            provider,
            name,
            observe: async () => {
              const endpoint = cloud.describeEndpoint(name);
              const record = endpoint ? recordOf(endpoint) : undefined;
              return endpoint && record ? { record, observation: endpoint } : undefined;
            },
            advance: async (record, endpoint, signal) => advance(record, endpoint, signal),
            save: async (record, endpoint, signal) => saveRecord(endpoint, record, signal),
            status: async () => {
              const endpoint = cloud.peekEndpoint(name);
              return endpoint ? statusOf(endpoint) : undefined;
            },
          },
          callOptions.signal,
        );
      },
      async doGet(name, callOptions) {
        enter('deployments.doGet', callOptions, name);
        const endpoint = cloud.peekEndpoint(name);
        return endpoint ? statusOf(endpoint) : undefined;
      },
      doList(callOptions) {
        enter('deployments.doList', callOptions);
        return iterate(
          cloud
            .listEndpoints()
            .map(statusOf)
            .filter(
              (status): status is DeploymentStatus => status !== undefined && status.state !== 'Deleting',
            ),
        );
      },
      async doResolveSignature(target, callOptions) {
        enter('deployments.doResolveSignature', callOptions, target);
        const label =
          'deployment' in target
            ? cloud.peekEndpoint(target.deployment)?.config.model
            : modelLabel(target.model);
        return label === undefined ? undefined : options.signatures?.[label];
      },
      async doPredict(name, request: PredictRequest, callOptions): Promise<PredictResponse> {
        enter('deployments.doPredict', callOptions, name, request);
        const endpoint = cloud.peekEndpoint(name);
        const record = endpoint ? recordOf(endpoint) : undefined;
        if (!endpoint || !record || record.deleting) throw notFound('deployment', name);
        if (endpoint.state !== 'InService' && endpoint.state !== 'Updating') {
          requestLog.push({ deployment: name, time: new Date(), status: 503 });
          throw new MlscaleError({
            code: 'BackendFailure',
            provider,
            retryable: endpoint.state === 'Creating',
            message: `Deployment '${name}' is ${endpoint.state}, not serving.`,
          });
        }
        requestLog.push({ deployment: name, time: new Date(), status: 200 });
        return {
          ...(request.id ? { id: request.id } : {}),
          modelName: name,
          modelVersion: endpoint.config.model,
          outputs: request.inputs.map((input) => ({
            name: `${input.name}_output`,
            datatype: 'FP64' as const,
            shape: input.shape,
            data: input.data.map((value) => 2 * Number(value)),
          })),
        };
      },
    },

    training: {
      async doCreate(spec, callOptions) {
        enter('training.doCreate', callOptions, spec);
        if (jobs.has(spec.name)) {
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider,
            message: `Training job '${spec.name}' already exists; job names are unique.`,
          });
        }
        const failure = options.failTraining?.(spec);
        const record: JobRecord = {
          status: {
            name: spec.name,
            provider,
            state: 'Pending',
            secondaryStatus: 'Starting',
            spec,
            createdAt: new Date(),
            interruptions: 0,
          },
          steps: 0,
          stopRequested: false,
          ...(failure ? { failure } : {}),
        };
        jobs.set(spec.name, record);
        return record.status;
      },
      async doGet(name, callOptions) {
        enter('training.doGet', callOptions, name);
        const record = jobs.get(name);
        return record ? jobAdvance(record) : undefined;
      },
      doList(callOptions) {
        enter('training.doList', callOptions);
        return iterate([...jobs.values()].map((record) => record.status));
      },
      async doStop(name, callOptions) {
        enter('training.doStop', callOptions, name);
        const record = jobs.get(name);
        if (!record) throw notFound('training job', name);
        if (record.status.state === 'Pending' || record.status.state === 'Running') {
          record.stopRequested = true;
          record.status = { ...record.status, state: 'Stopping', secondaryStatus: 'Stopping' };
        }
        return record.status;
      },
    },

    monitoring: {
      async doMetrics(query, callOptions): Promise<MetricQueryResult> {
        enter('monitoring.doMetrics', callOptions, query);
        const to = query.to ?? new Date();
        const from = query.from ?? new Date(to.getTime() - 3_600_000);
        const period = query.periodSeconds * 1000;
        const start = Math.floor(from.getTime() / period) * period;
        const timestamps: Date[] = [];
        for (let time = start; time < to.getTime(); time += period) timestamps.push(new Date(time));
        const target = 'deployment' in query.target ? query.target.deployment : undefined;
        const counts = (predicate: (status: number) => boolean) =>
          timestamps.map(
            (bucket) =>
              requestLog.filter(
                (entry) =>
                  entry.deployment === target &&
                  predicate(entry.status) &&
                  entry.time >= bucket &&
                  entry.time.getTime() < bucket.getTime() + period,
              ).length,
          );
        const series = [];
        const absent = [];
        for (const name of query.names) {
          if (name === 'invocations')
            series.push({
              name,
              stat: 'sum',
              unit: 'count',
              timestamps,
              values: counts((status) => status < 400),
            });
          else if (name === 'errors5xx')
            series.push({
              name,
              stat: 'sum',
              unit: 'count',
              timestamps,
              values: counts((status) => status >= 500),
            });
          else if (name === 'errors4xx')
            series.push({
              name,
              stat: 'sum',
              unit: 'count',
              timestamps,
              values: counts((status) => status >= 400 && status < 500),
            });
          else absent.push({ name, reason: 'the in-memory backend records request counts only' });
        }
        return { periodSeconds: query.periodSeconds, series, ...(absent.length ? { absent } : {}) };
      },
      doLogs(target, query, callOptions): AsyncIterable<LogEntry> {
        enter('monitoring.doLogs', callOptions, target, query);
        const name = 'deployment' in target ? target.deployment : target.job;
        const entries = requestLog
          .filter((entry) => entry.deployment === name && (!query.since || entry.time >= query.since))
          .map(
            (entry): LogEntry => ({
              time: entry.time,
              source: 'request',
              message: `POST predict ${entry.status}`,
              fields: { status: entry.status },
            }),
          )
          .filter((entry) => !query.filter || entry.message.includes(query.filter));
        return iterate(query.limit ? entries.slice(0, query.limit) : entries);
      },
      async doPutAlert(rule: AlertRule, callOptions) {
        enter('monitoring.doPutAlert', callOptions, rule);
        const status: AlertStatus = { rule, state: 'ok', since: new Date() };
        alerts.set(rule.name, status);
        return status;
      },
      async doListAlerts(callOptions) {
        enter('monitoring.doListAlerts', callOptions);
        return [...alerts.values()];
      },
      async doDeleteAlert(name, callOptions) {
        enter('monitoring.doDeleteAlert', callOptions, name);
        return alerts.delete(name);
      },
    },

    models: {
      async doRegister(spec, callOptions) {
        enter('models.doRegister', callOptions, spec);
        const versions = models.get(spec.name) ?? [];
        const version: ModelVersion = {
          name: spec.name,
          version: versions.length + 1,
          format: spec.format,
          uri: `memory://models/${spec.name}/${versions.length + 1}`,
          sha256: createHash('sha256').update(spec.path).digest('hex'),
          sizeBytes: 0,
          createdAt: new Date(),
          metadata: spec.metadata,
          lineage: spec.lineage,
          ...(spec.baseline ? { baseline: spec.baseline } : {}),
        };
        models.set(spec.name, [...versions, version]);
        return version;
      },
      async doGet(name, version, callOptions) {
        enter('models.doGet', callOptions, name, version);
        const versions = models.get(name) ?? [];
        return version === undefined ? versions.at(-1) : versions.find((item) => item.version === version);
      },
      doList(name, callOptions) {
        enter('models.doList', callOptions, name);
        const all = name === undefined ? [...models.values()].flat() : (models.get(name) ?? []);
        return iterate(
          [...all].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.version - a.version),
        );
      },
    },

    async close() {
      jobs.clear();
    },
  };
  return backend;
}
