import { userInfo } from 'node:os';
import type {
  AlertStatus,
  BackendV1,
  CallOptionsV1,
  DeploymentStatus,
  LogEntry,
  MetricQueryResult,
  TrainingJobStatus,
} from '../backend/v1/index.js';
import { terminalTrainingJobStates } from '../backend/v1/index.js';
import { MlscaleError, toMlscaleError } from '../errors.js';
import { redact, redactText } from '../redact.js';
import { type RetryOptions, withRetry } from '../retry.js';
import {
  type AlertRuleInput,
  type AutoscalingPolicyInput,
  alertRuleSchema,
  autoscalingPolicySchema,
  type DeploymentSpecInput,
  deploymentSpecSchema,
  type LogQueryInput,
  logQuerySchema,
  type MetricQueryInput,
  type ModelVersion,
  type MonitoringTarget,
  metricQuerySchema,
  monitoringTargetSchema,
  type PredictRequest,
  type PredictResponse,
  parseSpec,
  predictRequestSchema,
  type RegisterModelInput,
  registerModelSchema,
  resourceNameSchema,
  type TrainingJobSpecInput,
  trainingJobSpecSchema,
} from '../spec/index.js';
import { specHash } from '../spec-hash.js';
import { type WaitResult, waitFor } from '../wait.js';
import type { AuditSink } from './audit.js';
import {
  assertCapabilities,
  autoscalingNeeds,
  deploymentNeeds,
  requireGroup,
  trainingNeeds,
} from './capability-check.js';
import type { MlscaleEvent, MutatingOperation } from './events.js';
import { type Logger, silentLogger } from './logger.js';

export interface MlscaleSettings {
  /** The backend every call goes to: `localGpu()`, `sagemaker()`, `azureml()`, `vertex()`, ... */
  backend: BackendV1;
  /** Diagnostics; silent by default. */
  logger?: Logger;
  /** Retry policy for backend calls; `false` turns retries off. */
  retry?: Omit<RetryOptions, 'signal' | 'onRetry'> | false;
  /** Progress of mutating operations. */
  onEvent?: (event: MlscaleEvent) => void;
  /** Where each mutating call is recorded; none by default (the CLI writes `.mlscale/audit.jsonl`). */
  audit?: AuditSink;
  /** Who is acting, for the audit record. Default: the OS user name. */
  actor?: string;
  /** How often waits poll. Defaults: 250 ms growing to 10 s. */
  polling?: { minDelayMs?: number; maxDelayMs?: number };
}

/** Options for calls that may wait for a long operation. */
export interface OperationOptions {
  /** Wait until the operation completes (default true); `false` returns right after the backend accepts it. */
  wait?: boolean;
  /** Most time to wait, in ms. Defaults: one hour for deployments, unlimited for training jobs. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options for read calls. */
export interface ReadOptions {
  signal?: AbortSignal;
}

/** The mlscale API. */
export interface MlscaleClient {
  readonly backend: BackendV1;
  /** Creates a deployment and (by default) waits until it serves. */
  deploy(spec: DeploymentSpecInput, options?: OperationOptions): Promise<DeploymentStatus>;
  /** Replaces a deployment's spec; a new model version rolls out as the spec's `rollout` says. */
  update(spec: DeploymentSpecInput, options?: OperationOptions): Promise<DeploymentStatus>;
  /** Sets a fixed replica count. */
  scale(name: string, replicas: number, options?: OperationOptions): Promise<DeploymentStatus>;
  /** Sets the autoscaling policy, or removes it with `null`. */
  autoscale(
    name: string,
    policy: AutoscalingPolicyInput | null,
    options?: OperationOptions,
  ): Promise<DeploymentStatus>;
  /** Deletes a deployment; deleting one that is not there is not an error. */
  delete(name: string, options?: OperationOptions): Promise<{ deleted: boolean }>;
  /** A deployment; throws `NotFound` when there is none. */
  get(name: string, options?: ReadOptions): Promise<DeploymentStatus>;
  /** Every deployment. */
  list(options?: ReadOptions): AsyncIterable<DeploymentStatus>;
  /** One inference (V2 tensors). */
  predict(name: string, request: PredictRequest, options?: ReadOptions): Promise<PredictResponse>;
  /** Starts a training job and (by default) waits until it ends; throws if it fails. */
  train(spec: TrainingJobSpecInput, options?: OperationOptions): Promise<TrainingJobStatus>;
  /** A training job; throws `NotFound` when there is none. */
  job(name: string, options?: ReadOptions): Promise<TrainingJobStatus>;
  /** Every training job. */
  jobs(options?: ReadOptions): AsyncIterable<TrainingJobStatus>;
  /** Stops a training job and (by default) waits until it has stopped. */
  stopJob(name: string, options?: OperationOptions): Promise<TrainingJobStatus>;
  /** Aligned metric series. */
  metrics(query: MetricQueryInput, options?: ReadOptions): Promise<MetricQueryResult>;
  /** Log entries; with `follow`, keeps going until the signal aborts or the job ends. */
  logs(target: MonitoringTarget, query?: LogQueryInput & ReadOptions): AsyncIterable<LogEntry>;
  readonly alerts: {
    put(rule: AlertRuleInput, options?: ReadOptions): Promise<AlertStatus>;
    list(options?: ReadOptions): Promise<AlertStatus[]>;
    delete(name: string, options?: ReadOptions): Promise<{ deleted: boolean }>;
  };
  readonly models: {
    register(input: RegisterModelInput, options?: ReadOptions): Promise<ModelVersion>;
    /** A version (the latest by default); throws `NotFound` when there is none. */
    get(name: string, version?: number, options?: ReadOptions): Promise<ModelVersion>;
    list(name?: string, options?: ReadOptions): AsyncIterable<ModelVersion>;
  };
  /** Releases what the backend holds. */
  close(): Promise<void>;
}

const defaultDeploymentTimeoutMs = 60 * 60_000;
const unlimitedMs = 365 * 24 * 60 * 60_000;

/** Creates the mlscale client over one backend. */
export function createMlscale(settings: MlscaleSettings): MlscaleClient {
  const { backend } = settings;
  if (backend?.specificationVersion !== 'v1') {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `Expected a backend implementing specification v1 (localGpu(), sagemaker(), ...), got ${
        backend
          ? `specificationVersion ${String((backend as { specificationVersion?: unknown }).specificationVersion)}`
          : String(backend)
      }.`,
    });
  }
  const logger = settings.logger ?? silentLogger;
  const provider = backend.provider;
  const actor = settings.actor ?? currentUser();
  const polling = {
    minDelayMs: settings.polling?.minDelayMs ?? 250,
    maxDelayMs: settings.polling?.maxDelayMs ?? 10_000,
  };

  const emit = (event: MlscaleEvent) => {
    try {
      settings.onEvent?.(event);
    } catch (error) {
      logger.warn('onEvent handler threw', { error: String(error) });
    }
  };

  /** One backend call with the retry policy, errors normalized to MlscaleError. */
  async function call<T>(
    operation: string,
    target: string,
    signal: AbortSignal | undefined,
    run: (options: CallOptionsV1) => Promise<T>,
  ): Promise<T> {
    const options: CallOptionsV1 = signal ? { signal } : {};
    const attempt = async () => {
      try {
        return await run(options);
      } catch (error) {
        throw toMlscaleError(error, provider);
      }
    };
    if (settings.retry === false) return attempt();
    return withRetry(attempt, {
      ...settings.retry,
      ...(signal ? { signal } : {}),
      onRetry: ({ attempt: number, delayMs, error }) => {
        const message = redactText(error instanceof Error ? error.message : String(error));
        logger.warn(`retrying ${operation} ${target}`, { attempt: number, delayMs, error: message });
        emit({
          type: 'operation-retry',
          operation,
          target,
          time: new Date(),
          attempt: number,
          delayMs,
          error: message,
        });
      },
    });
  }

  /** Runs a mutating operation: events, audit entry, errors normalized. */
  async function mutate<T>(
    operation: MutatingOperation,
    target: string,
    hashed: unknown,
    run: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    emit({ type: 'operation-started', operation, target, time: new Date(started) });
    logger.info(`${operation} ${target}`);
    let outcome: { result: 'succeeded' } | { result: 'failed'; error: MlscaleError };
    try {
      const value = await run();
      outcome = { result: 'succeeded' };
      emit({
        type: 'operation-succeeded',
        operation,
        target,
        time: new Date(),
        durationMs: Date.now() - started,
      });
      return value;
    } catch (error) {
      const failure = toMlscaleError(error, provider);
      outcome = { result: 'failed', error: failure };
      emit({
        type: 'operation-failed',
        operation,
        target,
        time: new Date(),
        durationMs: Date.now() - started,
        error: redactText(failure.message),
      });
      logger.error(`${operation} ${target} failed`, {
        code: failure.code,
        error: redactText(failure.message),
      });
      throw failure;
    } finally {
      await writeAudit(operation, target, hashed, started, outcome!);
    }
  }

  async function writeAudit(
    operation: MutatingOperation,
    target: string,
    hashed: unknown,
    started: number,
    outcome: { result: 'succeeded' } | { result: 'failed'; error: MlscaleError },
  ): Promise<void> {
    if (!settings.audit) return;
    try {
      await settings.audit.write(
        redact({
          time: new Date(started).toISOString(),
          actor,
          provider,
          operation,
          target,
          ...(hashed === undefined ? {} : { specHash: specHash(hashed) }),
          result: outcome.result,
          durationMs: Date.now() - started,
          ...(outcome.result === 'failed'
            ? { error: { code: outcome.error.code, message: outcome.error.message } }
            : {}),
        }),
      );
    } catch (error) {
      logger.warn('audit sink failed; the operation itself was not affected', { error: String(error) });
    }
  }

  function name(value: string, what: string): string {
    return parseSpec(resourceNameSchema, value, `${what} name`);
  }

  /** Waits until a deployment is InService (or gone, for delete). */
  function waitForDeployment(
    operation: MutatingOperation,
    deploymentName: string,
    options: OperationOptions,
    done: (status: DeploymentStatus | undefined) => WaitResult<DeploymentStatus | undefined>,
  ): Promise<DeploymentStatus | undefined> {
    return waitFor({
      description: `deployment '${deploymentName}' to ${operation === 'delete' ? 'be deleted' : 'be InService'}`,
      maxWaitMs: options.timeoutMs ?? defaultDeploymentTimeoutMs,
      ...polling,
      ...(options.signal ? { signal: options.signal } : {}),
      check: async (signal) =>
        done(
          await call('get', deploymentName, signal, (callOptions) =>
            backend.deployments.doGet(deploymentName, callOptions),
          ),
        ),
      onProgress: (result, elapsedMs) => {
        const state = result.state === 'RETRY' && result.value ? result.value.state : 'pending';
        emit({
          type: 'operation-progress',
          operation,
          target: deploymentName,
          time: new Date(),
          state,
          elapsedMs,
        });
      },
    });
  }

  const untilInService = (status: DeploymentStatus | undefined): WaitResult<DeploymentStatus | undefined> => {
    if (!status) return { state: 'FAILURE', reason: 'the deployment disappeared' };
    if (status.state === 'InService') return { state: 'SUCCESS', value: status };
    if (status.state === 'Failed')
      return { state: 'FAILURE', reason: status.stateReason ?? 'the backend reported Failed', value: status };
    return {
      state: 'RETRY',
      value: status,
      progress: status.stateReason ? `${status.state}: ${status.stateReason}` : status.state,
    };
  };

  async function settleDeployment(
    operation: MutatingOperation,
    status: DeploymentStatus,
    options: OperationOptions,
  ): Promise<DeploymentStatus> {
    if (options.wait === false) return status;
    const first = untilInService(status);
    if (first.state === 'SUCCESS') return status;
    if (first.state === 'FAILURE') {
      throw new MlscaleError({
        code: 'BackendFailure',
        provider,
        retryable: false,
        message: `Deployment '${status.name}' failed: ${first.reason}`,
      });
    }
    return (await waitForDeployment(operation, status.name, options, untilInService)) as DeploymentStatus;
  }

  async function waitForJob(
    jobName: string,
    options: OperationOptions,
    operation: MutatingOperation,
  ): Promise<TrainingJobStatus> {
    const training = requireGroup(backend, backend.training, 'training');
    return waitFor<TrainingJobStatus>({
      description: `training job '${jobName}' to ${operation === 'stopJob' ? 'stop' : 'finish'}`,
      maxWaitMs: options.timeoutMs ?? unlimitedMs,
      ...polling,
      ...(options.signal ? { signal: options.signal } : {}),
      check: async (signal) => {
        const status = await call('job', jobName, signal, (callOptions) =>
          training.doGet(jobName, callOptions),
        );
        if (!status) return { state: 'FAILURE', reason: 'the job disappeared' };
        if (!terminalTrainingJobStates.has(status.state)) {
          return {
            state: 'RETRY',
            value: status,
            progress: status.secondaryStatus ? `${status.state} (${status.secondaryStatus})` : status.state,
          };
        }
        if (status.state === 'Completed' || operation === 'stopJob')
          return { state: 'SUCCESS', value: status };
        const reason = status.failureReason ?? status.secondaryStatus ?? status.state;
        return { state: 'FAILURE', reason: `${status.state}: ${reason}`, value: status };
      },
      onProgress: (result, elapsedMs) => {
        const state = result.state === 'RETRY' && result.value ? result.value.state : 'pending';
        emit({ type: 'operation-progress', operation, target: jobName, time: new Date(), state, elapsedMs });
      },
    });
  }

  const client: MlscaleClient = {
    backend,

    async deploy(input, options = {}) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      assertCapabilities(backend, deploymentNeeds(spec), 'deployment');
      return mutate('deploy', spec.name, spec, async () => {
        const status = await call('deploy', spec.name, options.signal, (callOptions) =>
          backend.deployments.doCreate(spec, callOptions),
        );
        return settleDeployment('deploy', status, options);
      });
    },

    async update(input, options = {}) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      assertCapabilities(backend, deploymentNeeds(spec), 'deployment');
      return mutate('update', spec.name, spec, async () => {
        const status = await call('update', spec.name, options.signal, (callOptions) =>
          backend.deployments.doUpdate(spec, callOptions),
        );
        return settleDeployment('update', status, options);
      });
    },

    async scale(deploymentName, replicas, options = {}) {
      name(deploymentName, 'deployment');
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > 1000) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          message: `Invalid replicas: expected a whole number from 0 to 1000, got ${replicas}.`,
        });
      }
      return mutate('scale', deploymentName, { replicas }, async () => {
        const status = await call('scale', deploymentName, options.signal, (callOptions) =>
          backend.deployments.doScale(deploymentName, replicas, callOptions),
        );
        return settleDeployment('scale', status, options);
      });
    },

    async autoscale(deploymentName, input, options = {}) {
      name(deploymentName, 'deployment');
      const policy = input === null ? null : parseSpec(autoscalingPolicySchema, input, 'autoscaling policy');
      if (policy) assertCapabilities(backend, autoscalingNeeds(policy), 'autoscaling policy');
      return mutate('autoscale', deploymentName, { policy }, async () => {
        const status = await call('autoscale', deploymentName, options.signal, (callOptions) =>
          backend.deployments.doAutoscale(deploymentName, policy, callOptions),
        );
        return settleDeployment('autoscale', status, options);
      });
    },

    async delete(deploymentName, options = {}) {
      name(deploymentName, 'deployment');
      return mutate('delete', deploymentName, undefined, async () => {
        const deleted = await call('delete', deploymentName, options.signal, (callOptions) =>
          backend.deployments.doDelete(deploymentName, callOptions),
        );
        if (options.wait !== false) {
          await waitForDeployment('delete', deploymentName, options, (status) =>
            status
              ? { state: 'RETRY', value: status, progress: status.state }
              : { state: 'SUCCESS', value: undefined },
          );
        }
        return { deleted };
      });
    },

    async get(deploymentName, options = {}) {
      name(deploymentName, 'deployment');
      const status = await call('get', deploymentName, options.signal, (callOptions) =>
        backend.deployments.doGet(deploymentName, callOptions),
      );
      if (!status) throw notFound('deployment', deploymentName);
      return status;
    },

    list(options = {}) {
      return normalizeIterable(backend.deployments.doList(options.signal ? { signal: options.signal } : {}));
    },

    async predict(deploymentName, input, options = {}) {
      name(deploymentName, 'deployment');
      const request = parseSpec(predictRequestSchema, input, 'predict request');
      return call('predict', deploymentName, options.signal, (callOptions) =>
        backend.deployments.doPredict(deploymentName, request, callOptions),
      );
    },

    async train(input, options = {}) {
      const spec = parseSpec(trainingJobSpecSchema, input, 'training job spec');
      const training = requireGroup(backend, backend.training, 'training');
      assertCapabilities(backend, trainingNeeds(spec), 'training job');
      return mutate('train', spec.name, spec, async () => {
        const status = await call('train', spec.name, options.signal, (callOptions) =>
          training.doCreate(spec, callOptions),
        );
        if (options.wait === false) return status;
        return waitForJob(spec.name, options, 'train');
      });
    },

    async job(jobName, options = {}) {
      name(jobName, 'training job');
      const training = requireGroup(backend, backend.training, 'training');
      const status = await call('job', jobName, options.signal, (callOptions) =>
        training.doGet(jobName, callOptions),
      );
      if (!status) throw notFound('training job', jobName);
      return status;
    },

    jobs(options = {}) {
      const training = requireGroup(backend, backend.training, 'training');
      return normalizeIterable(training.doList(options.signal ? { signal: options.signal } : {}));
    },

    async stopJob(jobName, options = {}) {
      name(jobName, 'training job');
      const training = requireGroup(backend, backend.training, 'training');
      return mutate('stopJob', jobName, undefined, async () => {
        const status = await call('stopJob', jobName, options.signal, (callOptions) =>
          training.doStop(jobName, callOptions),
        );
        if (options.wait === false || terminalTrainingJobStates.has(status.state)) return status;
        return waitForJob(jobName, options, 'stopJob');
      });
    },

    async metrics(input, options = {}) {
      const query = parseSpec(metricQuerySchema, input, 'metric query');
      const monitoring = requireGroup(backend, backend.monitoring, 'monitoring');
      return call('metrics', describeTarget(query.target), options.signal, (callOptions) =>
        monitoring.doMetrics(query, callOptions),
      );
    },

    logs(targetInput, input = {}) {
      const { signal, ...rest } = input;
      const target = parseSpec(monitoringTargetSchema, targetInput, 'log target');
      const query = parseSpec(logQuerySchema, rest, 'log query');
      const monitoring = requireGroup(backend, backend.monitoring, 'monitoring');
      return normalizeIterable(monitoring.doLogs(target, query, signal ? { signal } : {}));
    },

    alerts: {
      async put(input, options = {}) {
        const rule = parseSpec(alertRuleSchema, input, 'alert rule');
        const monitoring = requireGroup(backend, backend.monitoring, 'monitoring');
        return mutate('putAlert', rule.name, rule, () =>
          call('putAlert', rule.name, options.signal, (callOptions) =>
            monitoring.doPutAlert(rule, callOptions),
          ),
        );
      },
      async list(options = {}) {
        const monitoring = requireGroup(backend, backend.monitoring, 'monitoring');
        return call('listAlerts', '*', options.signal, (callOptions) => monitoring.doListAlerts(callOptions));
      },
      async delete(alertName, options = {}) {
        name(alertName, 'alert');
        const monitoring = requireGroup(backend, backend.monitoring, 'monitoring');
        return mutate('deleteAlert', alertName, undefined, async () => ({
          deleted: await call('deleteAlert', alertName, options.signal, (callOptions) =>
            monitoring.doDeleteAlert(alertName, callOptions),
          ),
        }));
      },
    },

    models: {
      async register(input, options = {}) {
        const spec = parseSpec(registerModelSchema, input, 'model registration');
        const models = requireGroup(backend, backend.models, 'modelRegistry');
        return mutate('registerModel', spec.name, spec, () =>
          call('registerModel', spec.name, options.signal, (callOptions) =>
            models.doRegister(spec, callOptions),
          ),
        );
      },
      async get(modelName, version, options = {}) {
        name(modelName, 'model');
        if (version !== undefined && !(Number.isInteger(version) && version > 0)) {
          throw new MlscaleError({
            code: 'InvalidSpec',
            message: `Invalid model version: expected a whole number above 0, got ${version}.`,
          });
        }
        const models = requireGroup(backend, backend.models, 'modelRegistry');
        const found = await call('getModel', modelName, options.signal, (callOptions) =>
          models.doGet(modelName, version, callOptions),
        );
        if (!found) throw notFound('model', version === undefined ? modelName : `${modelName}@${version}`);
        return found;
      },
      list(modelName, options = {}) {
        if (modelName !== undefined) name(modelName, 'model');
        const models = requireGroup(backend, backend.models, 'modelRegistry');
        return normalizeIterable(models.doList(modelName, options.signal ? { signal: options.signal } : {}));
      },
    },

    async close() {
      await backend.close?.();
    },
  };

  function notFound(kind: string, what: string): MlscaleError {
    return new MlscaleError({
      code: 'NotFound',
      provider,
      message: `No ${kind} named '${what}' on the ${provider} backend.`,
    });
  }

  /** Re-throws iterator errors as MlscaleErrors. */
  async function* normalizeIterable<T>(iterable: AsyncIterable<T>): AsyncIterable<T> {
    try {
      yield* iterable;
    } catch (error) {
      throw toMlscaleError(error, provider);
    }
  }

  return client;
}

function describeTarget(target: MonitoringTarget): string {
  return 'deployment' in target ? target.deployment : target.job;
}

function currentUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
