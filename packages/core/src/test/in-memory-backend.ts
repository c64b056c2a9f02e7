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
import { abortedError, MlscaleError } from '../errors.js';
import type {
  AlertRule,
  DeploymentSpec,
  ModelVersion,
  PredictRequest,
  PredictResponse,
  TrainingJobSpec,
} from '../spec/index.js';
import { specHash } from '../spec-hash.js';

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
  /** How many `doGet` calls a deployment stays Creating/Updating before InService. Default 1. */
  stepsToInService?: number;
  /** How many `doGet` calls a job spends in each of Pending and Running. Default 1. */
  stepsPerJobState?: number;
  /** Makes a deployment fail while creating: return the failure reason, or undefined to succeed. */
  failDeployment?: (spec: DeploymentSpec) => string | undefined;
  /** Makes a training job fail: return the failure reason, or undefined to succeed. */
  failTraining?: (spec: TrainingJobSpec) => string | undefined;
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
}

interface DeploymentRecord {
  status: DeploymentStatus;
  stepsLeft: number;
  deleting: boolean;
  failure?: string;
}

interface JobRecord {
  status: TrainingJobStatus;
  steps: number;
  failure?: string;
  stopRequested: boolean;
}

/**
 * A backend that keeps everything in memory, for testing code that uses the client: it records calls,
 * can be scripted to fail, walks deployments and jobs through their states as `doGet` is called, and
 * computes predictions (every output value is 2 × input + the model version's index), so answers are
 * checkable without a model runtime.
 */
export function createInMemoryBackend(options: InMemoryBackendOptions = {}): InMemoryBackend {
  const provider = options.provider ?? 'memory';
  const stepsToInService = options.stepsToInService ?? 1;
  const stepsPerJobState = options.stepsPerJobState ?? 1;
  const calls: RecordedCall[] = [];
  const failures: ScriptedFailure[] = [];
  const deployments = new Map<string, DeploymentRecord>();
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

  function existing(name: string): DeploymentRecord {
    const record = deployments.get(name);
    if (!record || record.deleting) throw notFound('deployment', name);
    return record;
  }

  function versionsOf(spec: DeploymentSpec): { version: string; weight: number }[] {
    const entries = spec.traffic ?? [{ model: spec.model, weight: 100 }];
    return entries.map((entry) => ({
      version: 'uri' in entry.model ? entry.model.uri : `${entry.model.name}@${entry.model.version}`,
      weight: entry.weight,
    }));
  }

  function freshStatus(
    spec: DeploymentSpec,
    state: DeploymentStatus['state'],
    previous?: DeploymentStatus,
  ): DeploymentStatus {
    const now = new Date();
    const replicas = spec.autoscaling ? Math.max(spec.replicas, spec.autoscaling.minReplicas) : spec.replicas;
    return {
      name: spec.name,
      provider,
      state,
      replicas: { desired: replicas, ready: previous?.replicas.ready ?? 0 },
      ...(spec.autoscaling ? { autoscaling: spec.autoscaling } : {}),
      traffic: versionsOf(spec),
      endpoint: { url: `memory://${spec.name}` },
      device: { requested: spec.instance?.accelerator ? 'gpu' : 'cpu', used: 'cpu' },
      spec,
      specHash: specHash(spec),
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
  }

  /** Moves a deployment one step along Creating/Updating → InService (or Failed, or gone). */
  function advance(record: DeploymentRecord): DeploymentStatus | undefined {
    const { status } = record;
    if (record.deleting) {
      deployments.delete(status.name);
      return undefined;
    }
    if (status.state === 'InService' || status.state === 'Failed') return status;
    if (record.stepsLeft > 0) {
      record.stepsLeft -= 1;
      return status;
    }
    if (record.failure) {
      record.status = { ...status, state: 'Failed', stateReason: record.failure, updatedAt: new Date() };
    } else {
      record.status = {
        ...status,
        state: 'InService',
        replicas: { ...status.replicas, ready: status.replicas.desired },
        updatedAt: new Date(),
      };
    }
    return record.status;
  }

  function advanceJob(record: JobRecord): TrainingJobStatus {
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
        const current = deployments.get(spec.name);
        if (current && !current.deleting) {
          if (current.status.specHash === specHash(spec)) return current.status;
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider,
            message: `Deployment '${spec.name}' already exists with a different spec; use update to change it.`,
          });
        }
        const failure = options.failDeployment?.(spec);
        const record: DeploymentRecord = {
          status: freshStatus(spec, 'Creating'),
          stepsLeft: stepsToInService - 1,
          deleting: false,
          ...(failure ? { failure } : {}),
        };
        deployments.set(spec.name, record);
        return record.status;
      },
      async doGet(name, callOptions) {
        enter('deployments.doGet', callOptions, name);
        const record = deployments.get(name);
        return record ? advance(record) : undefined;
      },
      doList(callOptions) {
        enter('deployments.doList', callOptions);
        return iterate(
          [...deployments.values()].filter((record) => !record.deleting).map((record) => record.status),
        );
      },
      async doUpdate(spec, callOptions) {
        enter('deployments.doUpdate', callOptions, spec);
        const record = existing(spec.name);
        record.status = freshStatus(spec, 'Updating', record.status);
        record.stepsLeft = stepsToInService - 1;
        return record.status;
      },
      async doScale(name, replicas, callOptions) {
        enter('deployments.doScale', callOptions, name, replicas);
        const record = existing(name);
        const spec = { ...record.status.spec, replicas };
        record.status = { ...freshStatus(spec, 'Updating', record.status), specHash: specHash(spec) };
        record.stepsLeft = stepsToInService - 1;
        return record.status;
      },
      async doAutoscale(name, policy, callOptions) {
        enter('deployments.doAutoscale', callOptions, name, policy);
        const record = existing(name);
        const { autoscaling: _previous, ...rest } = record.status.spec;
        const replicas = policy
          ? Math.min(policy.maxReplicas, Math.max(policy.minReplicas, rest.replicas))
          : rest.replicas;
        const spec: DeploymentSpec = policy ? { ...rest, replicas, autoscaling: policy } : rest;
        record.status = freshStatus(spec, 'Updating', record.status);
        record.stepsLeft = stepsToInService - 1;
        return record.status;
      },
      async doDelete(name, callOptions) {
        enter('deployments.doDelete', callOptions, name);
        const record = deployments.get(name);
        if (!record || record.deleting) return false;
        record.deleting = true;
        record.status = { ...record.status, state: 'Deleting', updatedAt: new Date() };
        return true;
      },
      async doPredict(name, request: PredictRequest, callOptions): Promise<PredictResponse> {
        enter('deployments.doPredict', callOptions, name, request);
        const record = existing(name);
        if (record.status.state !== 'InService' && record.status.state !== 'Updating') {
          requestLog.push({ deployment: name, time: new Date(), status: 503 });
          throw new MlscaleError({
            code: 'BackendFailure',
            provider,
            message: `Deployment '${name}' is ${record.status.state}, not serving.`,
          });
        }
        requestLog.push({ deployment: name, time: new Date(), status: 200 });
        return {
          ...(request.id ? { id: request.id } : {}),
          modelName: name,
          modelVersion: record.status.traffic[0]?.version ?? 'unknown',
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
        return record ? advanceJob(record) : undefined;
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
      deployments.clear();
      jobs.clear();
    },
  };
  return backend;
}
