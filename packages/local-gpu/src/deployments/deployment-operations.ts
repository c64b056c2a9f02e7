import { randomUUID } from 'node:crypto';
import {
  type CallOptionsV1,
  canonicalJson,
  type DeploymentOperationsV1,
  type DeploymentStatus,
  MlscaleError,
  type PredictRequest,
  type PredictResponse,
  parseSpec,
  predictRequestSchema,
  resourceNameSchema,
} from '@mlscale/core';
import { requestDeletion, requestSpec } from '@mlscale/core/provider-utils';
import { checkShape, datatypeInfo, decodeJsonData, jsonData } from '../server/tensor-codec.js';
import { type DeploymentEffectRunner, runEffectDirectly } from './deployment-effects.js';
import { reconcileDeployment } from './deployment-reconcile.js';
import { createDeploymentRecordStore, type StoredDeployment } from './deployment-record-store.js';
import type { DeploymentEnvironment, DeploymentRuntime } from './deployment-runtime.js';
import { checkDeploymentSpec, checkDevice, refuseServerOptionChanges } from './deployment-spec-checks.js';
import { deploymentStatus } from './deployment-status.js';
import { InferenceError, type InferenceRequest } from './inference-types.js';
import { parseLocalDeploymentOptions } from './local-deployment-options.js';
import { createLocalSecrets, recordedSpec } from './local-secrets.js';
import { checkModelReference } from './model-loader.js';
import { resolveSignature } from './resolve-signature.js';
import { locateServer } from './serving-process.js';

/** The deployments group of the local backend, plus what the backend needs to shut down. */
export interface LocalDeploymentOperations extends DeploymentOperationsV1 {
  /** The deployment's runtime in this backend (its server, versions and metrics), for in-process use and tests. */
  runtime(name: string): DeploymentRuntime | undefined;
  /** Where the deployment's record is (`<root>/deployments/<name>.json`). */
  recordPath(name: string): string;
  /**
   * Stops every server this backend runs (in-flight requests drain) and notes in each record that it
   * stopped; records stay, so a later backend on the same root reports them and reconcile starts them.
   * Deployments being deleted are removed.
   */
  closeAll(): Promise<void>;
}

/**
 * Deployments as servers in this process, one per deployment, recorded under `<root>/deployments/`: the
 * mutating calls record the desired spec (sealed) and return, `doReconcile` converges one step at a time,
 * and `doGet`/`doList` only read.
 */
export function createDeploymentOperations(
  environment: DeploymentEnvironment,
  settings: { root: string },
): LocalDeploymentOperations {
  const runEffect: DeploymentEffectRunner = environment.runEffect ?? runEffectDirectly;
  const store = createDeploymentRecordStore(settings.root, runEffect);
  const runtimes = new Map<string, DeploymentRuntime>();
  const secrets = createLocalSecrets();
  const backend = randomUUID();
  const queues = new Map<string, Promise<unknown>>();
  let closing = false;

  /** Runs the mutating calls of one deployment one after another (reads do not wait). */
  const serialized = <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const result = (queues.get(name) ?? Promise.resolve()).then(run, run);
    const tail = result.then(
      () => {},
      () => {},
    );
    queues.set(name, tail);
    void tail.then(() => {
      if (queues.get(name) === tail) queues.delete(name);
    });
    return result;
  };

  const checkName = (name: string) => parseSpec(resourceNameSchema, name, 'deployment name');

  const refuseWhileClosing = () => {
    if (!closing) return;
    throw new MlscaleError({
      code: 'Conflict',
      provider: 'local',
      message: 'This localGpu() backend is closing; create another to change deployments.',
    });
  };

  const statusOf = async (name: string, signal?: AbortSignal): Promise<DeploymentStatus | undefined> => {
    const stored = await store.read(name, signal);
    if (!stored) return undefined;
    const runtime = runtimes.get(name);
    const where = runtime ? { kind: 'here' as const, runtime } : locateServer(stored.process, { backend });
    return deploymentStatus(name, stored, where, store.pathOf(name));
  };

  const recordedStatus = async (name: string, signal?: AbortSignal) => (await statusOf(name, signal))!;

  const notFound = (name: string) =>
    new MlscaleError({
      code: 'NotFound',
      provider: 'local',
      message: `No deployment named '${name}' on the local backend (${store.directory}).`,
    });

  const write = (name: string, stored: StoredDeployment, signal?: AbortSignal) =>
    store.write(name, stored, signal);

  /** The runtime that answers predictions, or why there is none here. */
  const servingRuntime = async (name: string): Promise<DeploymentRuntime> => {
    const runtime = runtimes.get(name);
    if (runtime) return runtime;
    const stored = await store.read(name);
    if (!stored || stored.record.deleting) throw notFound(name);
    const where = locateServer(stored.process, { backend });
    throw new MlscaleError({
      code: 'Conflict',
      provider: 'local',
      message:
        where.kind === 'elsewhere'
          ? `Deployment '${name}' is served by process ${where.process.pid} at ${where.process.url}, not by this one; send requests there.`
          : `Deployment '${name}' is not running in this process (${where.kind === 'not-running' ? where.reason : 'not started yet'}); reconcile starts it here.`,
    });
  };

  const operations: LocalDeploymentOperations = {
    async doCreate(input, options: CallOptionsV1) {
      const { spec, local } = checkDeploymentSpec(input, environment.defaults);
      const { signal } = options;
      return serialized(spec.name, async () => {
        refuseWhileClosing();
        secrets.remember(spec);
        const recorded = recordedSpec(spec);
        const stored = await store.read(spec.name, signal);
        if (stored && !stored.record.deleting) {
          const next = requestSpec(stored.record, recorded);
          if (next.desiredHash !== stored.record.desiredHash) {
            throw new MlscaleError({
              code: 'AlreadyExists',
              provider: 'local',
              message: `Deployment '${spec.name}' exists with a different spec; use update to change it.`,
            });
          }
          // The same spec again: idempotent, and a re-run of one that failed (the failure is cleared).
          if (stored.record.failure) await write(spec.name, { ...stored, record: next }, signal);
          return recordedStatus(spec.name, signal);
        }
        if (
          stored &&
          (runtimes.has(spec.name) || locateServer(stored.process, { backend }).kind === 'elsewhere')
        ) {
          throw new MlscaleError({
            code: 'Conflict',
            provider: 'local',
            retryable: true,
            message: `Deployment '${spec.name}' is being deleted; deploy it again once it is gone (reconcile finishes the deletion).`,
          });
        }
        await checkModelReference(spec.model, environment);
        await checkDevice(spec, { ...environment.defaults, ...local }, environment.probe);
        await write(spec.name, { record: requestSpec(undefined, recorded), createdAt: new Date() }, signal);
        return recordedStatus(spec.name, signal);
      });
    },

    async doUpdate(input, options) {
      const { spec, local } = checkDeploymentSpec(input, environment.defaults);
      const { signal } = options;
      return serialized(spec.name, async () => {
        refuseWhileClosing();
        const stored = await store.read(spec.name, signal);
        if (!stored || stored.record.deleting) throw notFound(spec.name);
        secrets.remember(spec);
        // Sealed values (a spec read back from the record) must stand for values this process knows.
        const runnable = secrets.runnable(spec);
        if ('missing' in runnable) {
          const message =
            'the record keeps only a seal of this value, and this process was not given it: pass the value itself';
          throw new MlscaleError({
            code: 'InvalidSpec',
            provider: 'local',
            message: `Cannot update '${spec.name}' from its record alone:\n${runnable.missing.map((path) => `  - ${path}: ${message}`).join('\n')}`,
            issues: runnable.missing.map((path) => ({ path, message })),
          });
        }
        const recorded = recordedSpec(spec);
        const before = stored.record.desired;
        refuseServerOptionChanges(
          spec.name,
          parseLocalDeploymentOptions(before.providerOptions?.local),
          parseLocalDeploymentOptions(recorded.providerOptions?.local),
        );
        if (canonicalJson(before.model) !== canonicalJson(recorded.model))
          await checkModelReference(spec.model, environment);
        await checkDevice(spec, { ...environment.defaults, ...local }, environment.probe);
        const next = requestSpec(stored.record, recorded);
        if (next.desiredHash !== stored.record.desiredHash || stored.record.failure)
          await write(spec.name, { ...stored, record: next }, signal);
        return recordedStatus(spec.name, signal);
      });
    },

    async doDelete(name, options) {
      checkName(name);
      const { signal } = options;
      return serialized(name, async () => {
        refuseWhileClosing();
        const stored = await store.read(name, signal);
        if (!stored) return false;
        if (!stored.record.deleting)
          await write(name, { ...stored, record: requestDeletion(stored.record) }, signal);
        return true;
      });
    },

    async doReconcile(name, options) {
      checkName(name);
      return serialized(name, async () => {
        refuseWhileClosing();
        return reconcileDeployment(
          { store, runtimes, backend, secrets, environment, runEffect, status: statusOf },
          name,
          options.signal,
        );
      });
    },

    async doGet(name, options) {
      checkName(name);
      return statusOf(name, options.signal);
    },

    async *doList(options) {
      for (const name of await store.names(options.signal)) {
        const status = await statusOf(name, options.signal);
        if (status) yield status;
      }
    },

    async doPredict(name, input) {
      checkName(name);
      const runtime = await servingRuntime(name);
      const request = parseSpec(predictRequestSchema, input, 'predict request');
      const inference = toInferenceRequest(request);
      const startedAt = performance.now();
      const answered = (status: number, modelVersion?: string) =>
        runtime.recordRequest({
          route: 'predict (in process)',
          status,
          latencyMs: performance.now() - startedAt,
          ...(modelVersion ? { modelVersion } : {}),
          ...(inference.inputs[0] ? { batchSize: inference.inputs[0].shape[0] ?? 1 } : {}),
        });
      try {
        const result = await runtime.infer(inference);
        answered(200, result.modelVersion);
        const wanted = request.outputs;
        const response: PredictResponse = {
          modelName: name,
          modelVersion: result.modelVersion,
          outputs: result.outputs
            .filter((output) => !wanted || wanted.includes(output.name))
            .map((output) => ({
              name: output.name,
              datatype: output.datatype,
              shape: output.shape,
              data: jsonData(output) as (number | boolean)[],
            })),
        };
        if (request.id !== undefined) response.id = request.id;
        return response;
      } catch (error) {
        answered(error instanceof InferenceError ? error.status : 500);
        throw toMlscale(error, name);
      }
    },

    async doResolveSignature(target, options) {
      if ('deployment' in target) checkName(target.deployment);
      return resolveSignature(
        {
          store,
          runtime: (name) => runtimes.get(name),
          baseDirectory: environment.baseDirectory,
          resolveRegistryModel: environment.resolveRegistryModel,
        },
        target,
        options.signal,
      );
    },

    runtime: (name) => runtimes.get(name),
    recordPath: (name) => store.pathOf(checkName(name)),

    async closeAll() {
      closing = true;
      await Promise.all(
        [...runtimes.entries()].map(async ([name, runtime]) => {
          await runtime.close();
          runtimes.delete(name);
          try {
            const stored = await store.read(name);
            if (!stored) return;
            if (stored.record.deleting) {
              await store.remove(name);
              return;
            }
            const entry = stored.process;
            if (entry && entry.pid === process.pid && entry.backend === backend && !entry.stoppedAt)
              await write(name, { ...stored, process: { ...entry, stoppedAt: new Date() } });
          } catch (error) {
            environment.log(`deployment ${name}: could not note in its record that its server stopped`, {
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }),
      );
    },
  };
  return operations;
}

function toInferenceRequest(request: PredictRequest): InferenceRequest {
  try {
    return {
      ...(request.id === undefined ? {} : { id: request.id }),
      inputs: request.inputs.map((input) => {
        const where = `input '${input.name}'`;
        const info = datatypeInfo(input.datatype, where);
        const count = checkShape(input.shape, where);
        return {
          name: input.name,
          datatype: info.datatype,
          shape: input.shape,
          data: decodeJsonData(input.data, info, count, where),
        };
      }),
      ...(request.outputs ? { outputs: request.outputs.map((name) => ({ name, binary: false })) } : {}),
    };
  } catch (error) {
    throw toMlscale(error, '');
  }
}

/** Maps a serving failure to the MlscaleError code a caller branches on. */
function toMlscale(error: unknown, name: string): MlscaleError {
  if (!(error instanceof InferenceError))
    return MlscaleError.isInstance(error)
      ? error
      : new MlscaleError({ code: 'BackendFailure', provider: 'local', message: String(error), cause: error });
  const where = name ? `Predict on '${name}': ` : 'Predict: ';
  const base = { provider: 'local', message: `${where}${error.message}`, statusCode: error.status };
  if (error.reason === 'no_replicas') return new MlscaleError({ ...base, code: 'Conflict' });
  if (error.status === 404) return new MlscaleError({ ...base, code: 'NotFound' });
  if (error.status >= 400 && error.status < 500 && error.status !== 429)
    return new MlscaleError({
      ...base,
      code: 'InvalidSpec',
      issues: [{ path: 'inputs', message: error.message }],
    });
  if (error.status === 429)
    return new MlscaleError({
      ...base,
      code: 'Throttled',
      retryAfterMs: (error.retryAfterSeconds ?? 1) * 1000,
    });
  if (error.status === 503 && error.reason === 'timeout')
    return new MlscaleError({ ...base, code: 'Timeout', retryable: true });
  return new MlscaleError({ ...base, code: 'BackendFailure', retryable: error.status === 503 });
}
