import { userInfo } from 'node:os';
import type { CallOptionsV1, DeploymentStatus } from '../backend/v1/index.js';
import { terminalTrainingJobStates } from '../backend/v1/index.js';
import { MlscaleError, toMlscaleError } from '../errors.js';
import { maskValues } from '../provider-utils/secret-memory.js';
import { sealDeploymentSpec, sealSecrets, secretHashKey } from '../secrets/seal-secrets.js';
import {
  alertRuleSchema,
  autoscalingPolicySchema,
  type DeploymentSpec,
  deploymentSpecSchema,
  logQuerySchema,
  type MonitoringTarget,
  metricQuerySchema,
  monitoringTargetSchema,
  parseSpec,
  predictRequestSchema,
  registerModelSchema,
  resourceNameSchema,
  trainingJobSpecSchema,
} from '../spec/index.js';
import { createBackendCall } from './backend-call.js';
import {
  assertBackendAccepts,
  assertCapabilities,
  autoscalingNeeds,
  deploymentNeeds,
  requireGroup,
  trainingNeeds,
} from './capability-check.js';
import { applyDeploymentChange, type DeploymentChangeInput } from './deployment-change.js';
import { type DeploymentWaitContext, reconcileUntilGone, reconcileUntilServing } from './deployment-waits.js';
import type { MlscaleEvent, MutatingOperation } from './events.js';
import { silentLogger } from './logger.js';
import type { MlscaleClient, MlscaleSettings, OperationOptions } from './mlscale-client.js';
import { createMutationRecorder } from './mutation-recorder.js';
import { checkSignatures } from './signature-gate.js';
import { waitForJob } from './training-waits.js';

export type {
  MlscaleClient,
  MlscaleSettings,
  OperationOptions,
  ReadOptions,
  UpdateOptions,
} from './mlscale-client.js';

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
  const call = createBackendCall({ provider, retry: settings.retry, logger, emit });
  const mutate = createMutationRecorder({
    provider,
    actor: settings.actor ?? currentUser(),
    audit: settings.audit,
    logger,
    emit,
  });
  const waits: DeploymentWaitContext = { backend, call, emit, polling };

  function name(value: string, what: string): string {
    return parseSpec(resourceNameSchema, value, `${what} name`);
  }

  /** After a mutating call: the status as it is (`wait: false`), or once the recorded spec serves. */
  async function settle(
    operation: MutatingOperation,
    status: DeploymentStatus,
    options: OperationOptions,
  ): Promise<DeploymentStatus> {
    if (options.wait === false) return status;
    if (status.state === 'InService' && (status.servingSpecHash ?? status.specHash) === status.specHash)
      return status;
    return reconcileUntilServing(waits, operation, status.name, status.specHash, options);
  }

  /**
   * Records a whole new spec for an existing deployment and waits as asked: after the signature gate,
   * given what is recorded now (read here when the caller did not read it).
   */
  function change(
    operation: MutatingOperation,
    spec: DeploymentSpec,
    options: OperationOptions,
    current?: DeploymentSpec,
  ): Promise<DeploymentStatus> {
    assertCapabilities(backend, deploymentNeeds(spec), 'deployment');
    assertBackendAccepts(backend, spec);
    return mutate(operation, spec.name, sealDeploymentSpec(spec), () =>
      withSecretsMasked(spec, async () => {
        const recorded =
          current ??
          (
            await call('get', spec.name, options.signal, (callOptions) =>
              backend.deployments.doGet(spec.name, callOptions),
            )
          )?.spec;
        if (recorded) {
          await checkSignatures({
            backend,
            call,
            current: recorded,
            next: spec,
            signal: options.signal,
            warn: (message) => {
              logger.warn(`${operation} ${spec.name}: ${message}`);
              emit({ type: 'operation-warning', operation, target: spec.name, time: new Date(), message });
            },
          });
        }
        const status = await call(operation, spec.name, options.signal, (callOptions) =>
          backend.deployments.doUpdate(spec, callOptions),
        );
        return settle(operation, status, options);
      }),
    );
  }

  /** The recorded spec with `input` applied, validated, and the recorded spec it started from. */
  async function changedSpec(
    input: DeploymentChangeInput,
    replace: boolean,
    signal: AbortSignal | undefined,
  ): Promise<{ spec: DeploymentSpec; current?: DeploymentSpec }> {
    name(input.name, 'deployment');
    if (replace) {
      return {
        spec: parseSpec(
          deploymentSpecSchema,
          applyDeploymentChange({ name: input.name }, input as Record<string, unknown>),
          'deployment spec',
        ),
      };
    }
    const current = await call('get', input.name, signal, (callOptions) =>
      backend.deployments.doGet(input.name, callOptions),
    );
    if (!current) throw notFound('deployment', input.name);
    const spec = parseSpec(
      deploymentSpecSchema,
      applyDeploymentChange(
        current.spec as unknown as Record<string, unknown>,
        input as Record<string, unknown>,
      ),
      'deployment spec',
    );
    return { spec, current: current.spec };
  }

  const client: MlscaleClient = {
    backend,

    async deploy(input, options = {}) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      assertCapabilities(backend, deploymentNeeds(spec), 'deployment');
      assertBackendAccepts(backend, spec);
      return mutate('deploy', spec.name, sealDeploymentSpec(spec), () =>
        withSecretsMasked(spec, async () => {
          const status = await call('deploy', spec.name, options.signal, (callOptions) =>
            backend.deployments.doCreate(spec, callOptions),
          );
          return settle('deploy', status, options);
        }),
      );
    },

    async update(input, options = {}) {
      const { spec, current } = await changedSpec(input, options.replace === true, options.signal);
      return change('update', spec, options, current);
    },

    async scale(deploymentName, replicas, options = {}) {
      name(deploymentName, 'deployment');
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > 1000) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          message: `Invalid replicas: expected a whole number from 0 to 1000, got ${replicas}.`,
          issues: [{ path: 'replicas', message: 'expected a whole number from 0 to 1000' }],
        });
      }
      const { spec, current } = await changedSpec(
        { name: deploymentName, replicas, autoscaling: null },
        false,
        options.signal,
      );
      return change('scale', spec, options, current);
    },

    async autoscale(deploymentName, input, options = {}) {
      name(deploymentName, 'deployment');
      const policy = input === null ? null : parseSpec(autoscalingPolicySchema, input, 'autoscaling policy');
      if (policy) assertCapabilities(backend, autoscalingNeeds(policy), 'autoscaling policy');
      const { spec, current } = await changedSpec(
        { name: deploymentName, autoscaling: policy },
        false,
        options.signal,
      );
      return change('autoscale', spec, options, current);
    },

    async delete(deploymentName, options = {}) {
      name(deploymentName, 'deployment');
      return mutate('delete', deploymentName, undefined, async () => {
        const deleted = await call('delete', deploymentName, options.signal, (callOptions) =>
          backend.deployments.doDelete(deploymentName, callOptions),
        );
        if (options.wait !== false) await reconcileUntilGone(waits, deploymentName, options);
        return { deleted };
      });
    },

    async reconcile(deploymentName, options = {}) {
      name(deploymentName, 'deployment');
      return mutate('reconcile', deploymentName, undefined, async () => {
        const status = await call('reconcile', deploymentName, options.signal, (callOptions) =>
          backend.deployments.doReconcile(deploymentName, callOptions),
        );
        if (!status || options.wait === false) return status;
        if (status.state === 'Deleting') {
          await reconcileUntilGone(waits, deploymentName, options);
          return undefined;
        }
        return settle('reconcile', status, options);
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
      return listing('list', '*', options.signal, (callOptions) => backend.deployments.doList(callOptions));
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
        return waitForJob({ training, call, emit, polling }, spec.name, options, 'train');
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
      return listing('jobs', '*', options.signal, (callOptions) => training.doList(callOptions));
    },

    async stopJob(jobName, options = {}) {
      name(jobName, 'training job');
      const training = requireGroup(backend, backend.training, 'training');
      return mutate('stopJob', jobName, undefined, async () => {
        const status = await call('stopJob', jobName, options.signal, (callOptions) =>
          training.doStop(jobName, callOptions),
        );
        if (options.wait === false || terminalTrainingJobStates.has(status.state)) return status;
        return waitForJob({ training, call, emit, polling }, jobName, options, 'stopJob');
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
      const entries = listing('logs', describeTarget(target), signal, (callOptions) =>
        monitoring.doLogs(target, query, callOptions),
      );
      // Following ends when the signal aborts: that is the normal end of a `for await`, not a failure.
      return query.follow ? untilAborted(entries, signal) : entries;
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
        return listing('listModels', modelName ?? '*', options.signal, (callOptions) =>
          models.doList(modelName, callOptions),
        );
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

  /**
   * A backend listing with the client's retry policy on its start (the first page), where throttling
   * usually bites. Once items have flowed, a failure is thrown as an MlscaleError rather than retried:
   * starting over would list them twice.
   */
  async function* listing<T>(
    operation: string,
    target: string,
    signal: AbortSignal | undefined,
    open: (options: CallOptionsV1) => AsyncIterable<T>,
  ): AsyncIterable<T> {
    let iterator: AsyncIterator<T> | undefined;
    try {
      const first = await call(operation, target, signal, async (callOptions) => {
        await iterator?.return?.();
        iterator = open(callOptions)[Symbol.asyncIterator]();
        return iterator.next();
      });
      if (first.done) return;
      yield first.value;
      for (let next = await iterator!.next(); !next.done; next = await iterator!.next()) yield next.value;
    } catch (error) {
      throw toMlscaleError(error, provider);
    } finally {
      await iterator?.return?.();
    }
  }

  return client;
}

/** The entries until `signal` aborts, then an end instead of an `Aborted` error. */
async function* untilAborted<T>(
  entries: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncIterable<T> {
  try {
    yield* entries;
  } catch (error) {
    if (signal?.aborted && MlscaleError.hasCode(error, 'Aborted')) return;
    throw error;
  }
}

/**
 * Runs `run`, and if it fails, masks the spec's secret values in the error: a cloud's validation error
 * may quote the request (the container's environment) it refused. The SDK error it came from is
 * dropped from such an error, since it quotes them too.
 */
async function withSecretsMasked<T>(spec: DeploymentSpec, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!MlscaleError.isInstance(error)) throw error;
    const values = sealSecrets(spec, secretHashKey(spec.name)).secrets.map((secret) => secret.value);
    const message = maskValues(error.message, values);
    if (message === error.message) throw error;
    throw new MlscaleError({
      code: error.code,
      message,
      retryable: error.retryable,
      ...(error.provider ? { provider: error.provider } : {}),
      ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      issues: error.issues.map((issue) => ({ path: issue.path, message: maskValues(issue.message, values) })),
    });
  }
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
