import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  abortedError,
  type BackendV1,
  type CallOptionsV1,
  type DeploymentStatus,
  type LogEntry,
  MlscaleError,
  noCapabilitiesV1,
  type PredictRequest,
  type TrainingJobSpec,
  type TrainingJobStatus,
} from '@mlscale/core';
import {
  convergenceFields,
  type DeploymentRecord,
  decodeDeploymentRecord,
  encodeDeploymentRecord,
  markConverged,
  recordPhase,
  requestDeletion,
  requestSpec,
} from '@mlscale/core/provider-utils';

/** Settings of the test-only `file` backend. */
export interface FileBackendSettings {
  /** The JSON file holding every resource, so state survives across CLI processes. */
  path: string;
  /** Milliseconds a deployment stays Creating/Updating/Deleting. Default 0. */
  provisionMs?: number;
  /** Milliseconds a training job runs before it completes. Default 0. */
  trainingMs?: number;
  /** Provider id reported in statuses. Default `file`. */
  provider?: string;
}

/** One deployment: mlscale's record (as a cloud's tags would hold it) and the "cloud's" own state. */
interface StoredDeployment {
  /** `encodeDeploymentRecord` of the deployment's record (specs sealed). */
  record: string;
  /** What the fake cloud is doing. */
  state: 'Creating' | 'Updating' | 'InService' | 'Deleting';
  /** When the current transition ends (epoch ms). */
  settlesAt: number;
  /** The record's desired hash the cloud runs (or is moving to). */
  runningHash: string;
  createdAt: string;
  updatedAt: string;
}

interface StoredJob {
  spec: TrainingJobSpec;
  createdAt: string;
  endsAt: number;
  stopped: boolean;
}

interface StoredState {
  deployments: Record<string, StoredDeployment>;
  jobs: Record<string, StoredJob>;
  /** Every mutating call, so tests can check that an interrupted apply made no duplicates. */
  calls: { method: string; name: string; time: string }[];
  logs: { target: string; time: string; message: string }[];
}

/**
 * A backend that keeps its resources in one JSON file and moves them through their states by the clock.
 * It exists so the CLI's end-to-end tests can run separate `mlscale` processes (apply, kill, apply again)
 * against one shared "cloud"; it is not for users. It keeps the convergence contract in its simplest
 * form: a mutating call records the desired spec and starts the "cloud" moving; reconcile marks the
 * record converged once the clock says the cloud has finished; reads write nothing.
 */
export function fileBackend(settings: FileBackendSettings): BackendV1 {
  const provider = settings.provider ?? 'file';
  const provisionMs = settings.provisionMs ?? 0;
  const trainingMs = settings.trainingMs ?? 0;

  const load = (): StoredState => {
    try {
      return JSON.parse(readFileSync(settings.path, 'utf8')) as StoredState;
    } catch {
      return { deployments: {}, jobs: {}, calls: [], logs: [] };
    }
  };
  const save = (state: StoredState) => {
    mkdirSync(dirname(settings.path), { recursive: true });
    const temporary = `${settings.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state, null, 2));
    renameSync(temporary, settings.path);
  };
  /**
   * Reads, settles the cloud's transitions by the clock, lets `change` act, writes back what changed.
   * Reads (`read`) write nothing: a plan against an empty "cloud" leaves no file behind.
   */
  const transact = <T>(
    options: CallOptionsV1,
    what: string,
    change: (state: StoredState, now: number) => T,
    read = false,
  ): T => {
    if (options.signal?.aborted) throw abortedError(options.signal, what);
    const state = load();
    const before = JSON.stringify(state);
    const now = Date.now();
    settle(state, now);
    const result = change(state, now);
    if (!read && JSON.stringify(state) !== before) save(state);
    return result;
  };
  const recordOf = (stored: StoredDeployment): DeploymentRecord => {
    const record = decodeDeploymentRecord(stored.record);
    if (!record) throw new MlscaleError({ code: 'BackendFailure', provider, message: 'Damaged record.' });
    return record;
  };
  const settle = (state: StoredState, now: number) => {
    for (const [name, stored] of Object.entries(state.deployments)) {
      if (stored.settlesAt > now) continue;
      if (stored.state === 'Deleting') delete state.deployments[name];
      else if (stored.state === 'Creating' || stored.state === 'Updating') {
        stored.state = 'InService';
        stored.updatedAt = new Date(stored.settlesAt).toISOString();
      }
    }
  };
  const record = (state: StoredState, method: string, name: string) => {
    state.calls.push({ method, name, time: new Date().toISOString() });
    state.logs.push({ target: name, time: new Date().toISOString(), message: `${method} ${name}` });
  };
  const deploymentStatus = (stored: StoredDeployment): DeploymentStatus => {
    const record = recordOf(stored);
    const spec = record.desired;
    const desired = spec.autoscaling ? Math.max(spec.replicas, spec.autoscaling.minReplicas) : spec.replicas;
    const entries = spec.traffic ?? [{ model: spec.model, weight: 100 }];
    return {
      name: spec.name,
      provider,
      ...convergenceFields(record, {
        state: stored.state,
        matchesDesired: stored.runningHash === record.desiredHash,
      }),
      replicas: { desired, ready: stored.state === 'InService' ? desired : 0 },
      ...(spec.autoscaling ? { autoscaling: spec.autoscaling } : {}),
      traffic: entries.map((entry) => ({
        version: 'uri' in entry.model ? entry.model.uri : `${entry.model.name}@${entry.model.version}`,
        weight: entry.weight,
      })),
      endpoint: { url: `file://${spec.name}` },
      createdAt: new Date(stored.createdAt),
      updatedAt: new Date(stored.updatedAt),
    };
  };
  const jobStatus = (record: StoredJob, now: number): TrainingJobStatus => {
    const done = now >= record.endsAt;
    const state = record.stopped ? 'Stopped' : done ? 'Completed' : 'Running';
    return {
      name: record.spec.name,
      provider,
      state,
      spec: record.spec,
      createdAt: new Date(record.createdAt),
      startedAt: new Date(record.createdAt),
      ...(state === 'Running' ? {} : { endedAt: new Date(Math.min(now, record.endsAt)) }),
      ...(record.spec.output ? { modelUri: `${record.spec.output.uri}/model.onnx` } : {}),
    };
  };
  const existing = (state: StoredState, name: string): StoredDeployment => {
    const found = state.deployments[name];
    if (!found || found.state === 'Deleting') {
      throw new MlscaleError({ code: 'NotFound', provider, message: `No deployment named '${name}'.` });
    }
    return found;
  };
  /** The cloud starts moving to the record's desired spec. */
  const start = (
    stored: StoredDeployment,
    record: DeploymentRecord,
    state: StoredDeployment['state'],
    now: number,
  ) => {
    stored.record = encodeDeploymentRecord(record);
    stored.runningHash = record.desiredHash;
    stored.state = provisionMs > 0 ? state : state === 'Deleting' ? 'Deleting' : 'InService';
    stored.settlesAt = now + provisionMs;
    stored.updatedAt = new Date(now).toISOString();
  };

  return {
    specificationVersion: 'v1',
    provider,
    capabilities: {
      ...noCapabilitiesV1,
      serverless: true,
      scaleToZero: true,
      autoscaling: true,
      spot: true,
      gpu: true,
      trafficSplit: true,
      training: true,
      monitoring: true,
    },
    deployments: {
      async doCreate(spec, options) {
        return transact(options, 'doCreate', (state, now) => {
          const found = state.deployments[spec.name];
          if (found && found.state !== 'Deleting') {
            const recorded = recordOf(found);
            const next = requestSpec(recorded, spec);
            if (next.desiredHash === recorded.desiredHash) return deploymentStatus(found);
            throw new MlscaleError({
              code: 'AlreadyExists',
              provider,
              message: `Deployment '${spec.name}' exists.`,
            });
          }
          record(state, 'createDeployment', spec.name);
          const stored = {
            createdAt: new Date(now).toISOString(),
          } as StoredDeployment;
          start(stored, requestSpec(undefined, spec), 'Creating', now);
          state.deployments[spec.name] = stored;
          return deploymentStatus(stored);
        });
      },
      async doGet(name, options) {
        return transact(
          options,
          'doGet',
          (state) => {
            const found = state.deployments[name];
            return found ? deploymentStatus(found) : undefined;
          },
          true,
        );
      },
      async *doList(options) {
        const statuses = transact(
          options,
          'doList',
          (state) => Object.values(state.deployments).map(deploymentStatus),
          true,
        );
        yield* statuses;
      },
      async doUpdate(spec, options) {
        return transact(options, 'doUpdate', (state, now) => {
          const found = existing(state, spec.name);
          const recorded = recordOf(found);
          const next = requestSpec(recorded, spec);
          if (next.desiredHash !== recorded.desiredHash) {
            record(state, 'updateDeployment', spec.name);
            start(found, next, 'Updating', now);
          }
          return deploymentStatus(found);
        });
      },
      async doDelete(name, options) {
        return transact(options, 'doDelete', (state, now) => {
          const found = state.deployments[name];
          if (!found) return false;
          if (found.state !== 'Deleting') {
            record(state, 'deleteDeployment', name);
            start(found, requestDeletion(recordOf(found)), 'Deleting', now);
          }
          settle(state, now);
          return true;
        });
      },
      async doReconcile(name, options) {
        return transact(options, 'doReconcile', (state) => {
          const found = state.deployments[name];
          if (!found) return undefined;
          const recorded = recordOf(found);
          // The cloud has finished what the record asks: the record says so.
          if (
            found.state === 'InService' &&
            found.runningHash === recorded.desiredHash &&
            recordPhase(recorded) !== 'converged'
          ) {
            found.record = encodeDeploymentRecord(markConverged(recorded));
          }
          return deploymentStatus(found);
        });
      },
      async doPredict(name, request: PredictRequest, options) {
        return transact(
          options,
          'doPredict',
          (state) => {
            existing(state, name);
            // Doubles every input, so answers are checkable without a model runtime.
            return {
              modelName: name,
              outputs: request.inputs.map((input) => ({
                ...input,
                name: `${input.name}_doubled`,
                data: input.data.map((value) => (typeof value === 'number' ? value * 2 : value)),
              })),
            };
          },
          true,
        );
      },
    },
    training: {
      async doCreate(spec, options) {
        return transact(options, 'training.doCreate', (state, now) => {
          if (state.jobs[spec.name]) {
            throw new MlscaleError({
              code: 'AlreadyExists',
              provider,
              message: `Training job '${spec.name}' exists.`,
            });
          }
          record(state, 'createTrainingJob', spec.name);
          const stored: StoredJob = {
            spec,
            createdAt: new Date(now).toISOString(),
            endsAt: now + trainingMs,
            stopped: false,
          };
          state.jobs[spec.name] = stored;
          return jobStatus(stored, now);
        });
      },
      async doGet(name, options) {
        return transact(
          options,
          'training.doGet',
          (state, now) => {
            const found = state.jobs[name];
            return found ? jobStatus(found, now) : undefined;
          },
          true,
        );
      },
      async *doList(options) {
        yield* transact(
          options,
          'training.doList',
          (state, now) => Object.values(state.jobs).map((job) => jobStatus(job, now)),
          true,
        );
      },
      async doStop(name, options) {
        return transact(options, 'training.doStop', (state, now) => {
          const found = state.jobs[name];
          if (!found)
            throw new MlscaleError({
              code: 'NotFound',
              provider,
              message: `No training job named '${name}'.`,
            });
          if (now < found.endsAt) {
            record(state, 'stopTrainingJob', name);
            found.stopped = true;
          }
          return jobStatus(found, now);
        });
      },
    },
    monitoring: {
      async doMetrics(query) {
        const to = query.to ?? new Date();
        const from = query.from ?? new Date(to.getTime() - 3_600_000);
        const count = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000 / query.periodSeconds));
        const timestamps = Array.from(
          { length: Math.min(count, 1440) },
          (_, index) => new Date(from.getTime() + index * query.periodSeconds * 1000),
        );
        return {
          periodSeconds: query.periodSeconds,
          series: query.names.map((name) => ({
            name,
            stat: query.stat,
            unit: 'Count',
            timestamps,
            values: timestamps.map(() => 0),
          })),
        };
      },
      async *doLogs(target, query, options) {
        const name = 'deployment' in target ? target.deployment : target.job;
        const entries: LogEntry[] = transact(
          options,
          'doLogs',
          (state) =>
            state.logs
              .filter(
                (entry) => entry.target === name && (!query.since || new Date(entry.time) >= query.since),
              )
              .filter((entry) => !query.filter || entry.message.includes(query.filter))
              .map((entry) => ({ time: new Date(entry.time), source: 'server', message: entry.message })),
          true,
        );
        yield* query.limit ? entries.slice(-query.limit) : entries;
      },
      async doPutAlert() {
        throw new MlscaleError({ code: 'Unsupported', provider, message: 'The file backend has no alerts.' });
      },
      async doListAlerts() {
        return [];
      },
      async doDeleteAlert() {
        return false;
      },
    },
  };
}
