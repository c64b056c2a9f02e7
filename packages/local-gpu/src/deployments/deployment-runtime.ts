import {
  type AutoscalingPolicy,
  type Batching,
  batchingSchema,
  canonicalJson,
  type DeploymentSpec,
  type DeploymentState,
  type DeploymentStatus,
  MlscaleError,
  redact,
  redactedMarker,
  rolloutSchema,
  specHash,
} from '@mlscale/core';
import type { ModelSignature } from '../onnx/model-signature.js';
import type { DeviceRequest, DeviceSelection, ProviderProbe } from '../runtime/device-selection.js';
import { selectDevice } from '../runtime/device-selection.js';
import {
  type AnsweredRequest,
  type InferenceServer,
  type RequestObserver,
  startInferenceServer,
} from '../server/inference-server.js';
import type { ServedModel } from '../server/served-model.js';
import { createServingMetrics } from '../server/serving-metrics.js';
import { type Autoscaler, createAutoscaler } from './autoscaler.js';
import { InferenceError, type InferenceRequest, type InferenceResult } from './inference-types.js';
import type { LocalDeploymentOptions } from './local-deployment-options.js';
import { loadModel, type RegistryModelResolver } from './model-loader.js';
import { createModelVersion, type LoadedModel, type ModelVersion } from './model-version.js';
import { runRollout } from './rollout.js';

/** What every deployment of one backend shares. */
export interface DeploymentEnvironment {
  baseDirectory: string;
  resolveRegistryModel?: RegistryModelResolver | undefined;
  probe: ProviderProbe;
  ortPath: string;
  autoscaleIntervalMs: number;
  /** Defaults for providerOptions.local fields. */
  defaults: LocalDeploymentOptions;
  /** Log lines (scaling decisions, rollouts); secrets never reach it. */
  log(message: string, fields?: Record<string, unknown>): void;
  /** Attaches monitoring to a new deployment (local monitoring's per-deployment recorder); optional. */
  monitorDeployment?:
    | ((spec: DeploymentSpec, gauges: DeploymentGaugeSources) => DeploymentTelemetry)
    | undefined;
}

/** Live figures a deployment offers its monitor, read about once a second. */
export interface DeploymentGaugeSources {
  replicas(): number;
  queueDepth(): number;
  usesGpu(): boolean;
}

/** What a deployment tells its monitor: each answered request, and input rows for drift detection. */
export interface DeploymentTelemetry extends RequestObserver {
  /** Input rows, row-major, for drift detection; a no-op without a baseline. */
  observeInputs(values: ArrayLike<number>): void;
}

/** One running deployment: its server, versions, autoscaler and rollouts. */
export interface DeploymentRuntime extends ServedModel {
  status(): DeploymentStatus;
  readonly url: string;
  /** HTTP requests the server is handling now. */
  readonly activeRequests: number;
  update(spec: DeploymentSpec, local: LocalDeploymentOptions): Promise<void>;
  scale(replicas: number): void;
  autoscale(policy: AutoscalingPolicy | null): void;
  /** Resolves once the deployment first reaches InService or Failed. */
  settled(): Promise<void>;
  /** Rolls back the rollout in progress (an alert fired); false when none is running. */
  requestRollback(reason: string): boolean;
  /** Reports a request answered without HTTP (the client's in-process predict) to the monitor. */
  recordRequest(record: AnsweredRequest): void;
  /** Stops taking connections, drains in-flight requests, stops the replicas. */
  close(): Promise<void>;
}

const defaultBatching: Batching = batchingSchema.parse({});

/**
 * Creates a deployment: loads and checks the model, chooses the device, binds the server, then starts
 * replicas in the background (state Creating → InService, or Failed with the reason).
 */
export async function createDeploymentRuntime(
  initialSpec: DeploymentSpec,
  local: LocalDeploymentOptions,
  environment: DeploymentEnvironment,
): Promise<DeploymentRuntime> {
  let spec = initialSpec;
  const options = { ...environment.defaults, ...local };
  const model = await loadModel(spec.model, environment);
  const device = await selectDevice(deviceRequest(spec, options), environment.probe);
  const metrics = createServingMetrics(spec.name, { gpuStats: device.used === 'cuda' });
  metrics.setDevice(device);

  let state: DeploymentState = 'Creating';
  let stateReason: string | undefined;
  const createdAt = new Date();
  let updatedAt = createdAt;
  let versionCounter = 0;
  let canaryWeight = 0;
  let canaryCredit = 0;
  let canary: ModelVersion | undefined;
  let lastRollout: Record<string, unknown> | undefined;
  let closing = false;
  let settle: () => void = () => {};
  const settledPromise = new Promise<void>((resolve) => {
    settle = resolve;
  });

  const setState = (next: DeploymentState, reason?: string) => {
    state = next;
    stateReason = reason;
    updatedAt = new Date();
    if (next === 'InService' || next === 'Failed') settle();
  };

  const batchingOf = (current: DeploymentSpec) => current.batching ?? defaultBatching;

  const newVersion = (loaded: LoadedModel, selection: DeviceSelection) =>
    createModelVersion({
      label: String(++versionCounter),
      model: loaded,
      batching: batchingOf(spec),
      device: selection,
      intraOpThreads: options.intraOpThreads ?? 1,
      ortPath: environment.ortPath,
      metrics,
      onDemandWithoutReplicas: () => autoscaler.demand(),
      onReplicasChanged: () => {},
      onReplicaCrashed: (replicaId, reason) =>
        environment.log(
          `deployment ${spec.name}: replica ${replicaId} ended unexpectedly (${reason}); replacing it`,
        ),
    });

  let stable = newVersion(model, device);
  let stableDevice = device;

  const autoscaler: Autoscaler = createAutoscaler({
    intervalMs: environment.autoscaleIntervalMs,
    target: () => stable,
    log: environment.log,
  });

  const versions = () => (canary ? [stable, canary] : [stable]);
  const telemetry = environment.monitorDeployment?.(spec, {
    replicas: () => versions().reduce((sum, version) => sum + version.readyReplicas, 0),
    queueDepth: () => versions().reduce((sum, version) => sum + version.batcher.pending, 0),
    usesGpu: () => stableDevice.used === 'cuda',
  });
  /** Feeds float inputs to drift detection (the baseline is per feature of the first input). */
  const observeInputs = (request: InferenceRequest) => {
    const first = request.inputs[0];
    if (telemetry && first && (first.datatype === 'FP32' || first.datatype === 'FP64'))
      telemetry.observeInputs(first.data as ArrayLike<number>);
  };
  const findVersion = (label: string) => versions().find((version) => version.label === label);

  const served: ServedModel = {
    name: spec.name,
    metrics,
    versions: () => versions().map((version) => version.label),
    signature(version?: string): ModelSignature | undefined {
      return (version === undefined ? stable : findVersion(version))?.model.signature;
    },
    ready(version?: string) {
      if (state === 'Failed' || state === 'Creating' || state === 'Deleting') return false;
      const target = version === undefined ? stable : findVersion(version);
      if (!target) return false;
      return target.readyReplicas > 0 || (spec.autoscaling?.minReplicas === 0 && target === stable);
    },
    async infer(request: InferenceRequest, version?: string): Promise<InferenceResult> {
      observeInputs(request);
      if (version !== undefined) {
        const target = findVersion(version);
        if (!target) {
          throw new InferenceError(
            404,
            `model '${spec.name}' has no version '${version}'; versions: ${served.versions().join(', ')}`,
            'not_found',
          );
        }
        return target.infer(request);
      }
      const candidate = canary;
      if (candidate && canaryWeight > 0) {
        canaryCredit += canaryWeight;
        if (canaryCredit >= 100) {
          canaryCredit -= 100;
          // The canary gets a copy: its inputs are transferred to a worker, and a failure there is
          // retried on the stable version, so a bad canary never fails a caller.
          try {
            return await candidate.infer(copyRequest(request));
          } catch {
            return stable.infer(request);
          }
        }
      }
      return stable.infer(request);
    },
  };

  const server: InferenceServer = await startInferenceServer({
    model: served,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    token: options.token,
    allowUnauthenticated: options.allowUnauthenticated,
    tls: options.tls,
    maxBodyBytes: options.maxBodyBytes,
    predictRoute: options.predictRoute,
    healthRoute: options.healthRoute,
    observer: telemetry,
  });

  const initialReplicas = spec.replicas;
  autoscaler.setPolicy(spec.autoscaling ?? null);
  stable.setReplicas(initialReplicas).then(
    () => {
      if (state === 'Creating') setState('InService');
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      setState('Failed', `replicas failed to start: ${message}`);
      void stable.setReplicas(0).catch(() => {});
    },
  );

  /** Set by `requestRollback` (an alert firing) while a rollout runs. */
  let rollbackRequest: string | undefined;

  async function rollOut(nextSpec: DeploymentSpec, next: LoadedModel, nextDevice: DeviceSelection) {
    const rollout = nextSpec.rollout ?? rolloutSchema.parse({});
    const candidate = newVersion(next, nextDevice);
    canary = candidate;
    canaryWeight = 0;
    setState('Updating', `rolling out version ${candidate.label}`);
    const outcome = await runRollout({
      candidate,
      replicas: Math.max(1, stable.desiredReplicas),
      rollout,
      setWeight: (weight) => {
        canaryWeight = weight;
        updatedAt = new Date();
      },
      onRollingBack: (reason) => setState('RollingBack', reason),
      cancelled: () => closing,
      rollbackRequested: () => rollbackRequest,
    });
    rollbackRequest = undefined;
    lastRollout = { version: candidate.label, model: next.path, ...outcome, at: new Date().toISOString() };
    if (outcome.result === 'promoted') {
      const previous = stable;
      stable = candidate;
      stableDevice = nextDevice;
      canary = undefined;
      canaryWeight = 0;
      spec = nextSpec;
      setState('InService');
      environment.log(`deployment ${spec.name}: version ${candidate.label} promoted`);
      await previous.close();
    } else {
      canaryWeight = 0;
      canary = undefined;
      setState('InService', `rolled back version ${candidate.label}: ${outcome.reason}`);
      environment.log(`deployment ${spec.name}: version ${candidate.label} rolled back`, {
        reason: outcome.reason,
      });
      await candidate.close();
    }
  }

  const runtime: DeploymentRuntime = {
    ...served,
    recordRequest(record) {
      telemetry?.recordRequest(record);
    },
    requestRollback(reason) {
      if (!canary) return false;
      rollbackRequest = reason;
      return true;
    },
    get url() {
      return server.url;
    },
    get activeRequests() {
      return server.activeRequests;
    },
    status(): DeploymentStatus {
      const traffic = canary
        ? [
            { version: stable.label, weight: 100 - canaryWeight },
            { version: canary.label, weight: canaryWeight },
          ]
        : [{ version: stable.label, weight: 100 }];
      return {
        name: spec.name,
        provider: 'local',
        state,
        ...(stateReason ? { stateReason } : {}),
        replicas: { desired: stable.desiredReplicas, ready: stable.readyReplicas },
        ...(spec.autoscaling ? { autoscaling: spec.autoscaling } : {}),
        traffic,
        endpoint: { url: server.url },
        device: {
          requested: stableDevice.requested,
          used: stableDevice.used,
          ...(stableDevice.reason ? { reason: stableDevice.reason } : {}),
        },
        // The token (and TLS key) in providerOptions.local never leave in a status.
        spec: publicSpec(spec),
        specHash: specHash(spec),
        createdAt,
        updatedAt,
        details: {
          versions: versions().map((version) => ({
            version: version.label,
            model: version.model.path,
            replicas: { desired: version.desiredReplicas, ready: version.readyReplicas },
            pendingRequests: version.batcher.pending,
          })),
          inputs: stable.model.signature.inputs,
          outputs: stable.model.signature.outputs,
          batchable: stable.model.signature.batchable,
          // GPU figures come from nvidia-smi on /metrics (nv_gpu_*) when serving on CUDA; never invented.
          gpuMetrics: stableDevice.used === 'cuda' ? 'nv_gpu_* on /metrics' : 'absent: serving on CPU',
          ...(autoscaler.lastDecision ? { lastScaling: autoscaler.lastDecision } : {}),
          ...(lastRollout ? { lastRollout } : {}),
        },
      };
    },
    async update(nextSpec, nextLocal) {
      if (canary) {
        throw new MlscaleError({
          code: 'Conflict',
          provider: 'local',
          message: `Deployment '${spec.name}' is rolling out version ${canary.label}; wait until it is InService, then update again.`,
          retryable: true,
        });
      }
      const nextOptions = { ...environment.defaults, ...nextLocal };
      for (const field of ['host', 'port', 'token', 'allowUnauthenticated', 'tls', 'maxBodyBytes'] as const) {
        if (canonicalJson(nextOptions[field] ?? null) !== canonicalJson(options[field] ?? null)) {
          throw new MlscaleError({
            code: 'InvalidSpec',
            provider: 'local',
            message: `providerOptions.local.${field} cannot change on update (the server keeps its address and settings); delete and deploy again.`,
            issues: [{ path: `providerOptions.local.${field}`, message: 'cannot change on update' }],
          });
        }
      }
      const nextDeviceRequest = deviceRequest(nextSpec, nextOptions);
      const modelChanged = canonicalJson(nextSpec.model) !== stable.model.reference;
      const deviceChanged = nextDeviceRequest !== stableDevice.requested;
      // In-place changes first: they apply to whichever version ends up serving.
      for (const version of versions()) version.configure(batchingOf(nextSpec));
      if (!modelChanged && !deviceChanged) {
        spec = nextSpec;
        autoscaler.setPolicy(spec.autoscaling ?? null);
        if (!spec.autoscaling) void applyReplicas(spec.replicas);
        updatedAt = new Date();
        return;
      }
      const next = modelChanged ? await loadModel(nextSpec.model, environment) : stable.model;
      const nextDevice = deviceChanged
        ? await selectDevice(nextDeviceRequest, environment.probe)
        : stableDevice;
      spec = { ...nextSpec, model: spec.model };
      autoscaler.setPolicy(nextSpec.autoscaling ?? null);
      void rollOut(nextSpec, next, nextDevice).catch((error: unknown) => {
        setState('InService', `rollout failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
    scale(replicas) {
      spec = { ...spec, replicas, autoscaling: undefined };
      autoscaler.setPolicy(null);
      void applyReplicas(replicas);
    },
    autoscale(policy) {
      spec = { ...spec, autoscaling: policy ?? undefined };
      if (policy)
        spec.replicas = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, stable.desiredReplicas));
      autoscaler.setPolicy(policy);
      updatedAt = new Date();
    },
    settled: () => settledPromise,
    async close() {
      closing = true;
      setState('Deleting');
      autoscaler.stop();
      await server.close();
      await Promise.all(versions().map((version) => version.close()));
    },
  };

  /** A requested scale: Updating until the replicas converge (the client waits on that), then InService. */
  async function applyReplicas(count: number) {
    const converging = state === 'InService' && !canary;
    if (converging) setState('Updating', `scaling to ${count} replicas`);
    try {
      await stable.setReplicas(count);
      if (converging && state === 'Updating' && !canary) setState('InService');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      environment.log(`deployment ${spec.name}: scaling to ${count} failed`, { error: message });
      if (converging && state === 'Updating' && !canary)
        setState('InService', `scaling to ${count} failed: ${message}`);
    }
  }

  autoscaler.start();
  return runtime;
}

function deviceRequest(spec: DeploymentSpec, options: LocalDeploymentOptions): DeviceRequest {
  if (options.device) return options.device;
  return spec.instance?.accelerator ? 'cuda' : 'auto';
}

/** The spec without secrets: the token through `redact`, the TLS key by name (its key is just "key"). */
function publicSpec(spec: DeploymentSpec): DeploymentSpec {
  const safe = redact(spec);
  const local = safe.providerOptions?.local as { tls?: { key?: string } } | undefined;
  if (local?.tls?.key) local.tls = { ...local.tls, key: redactedMarker };
  return safe;
}

function copyRequest(request: InferenceRequest): InferenceRequest {
  return {
    ...request,
    inputs: request.inputs.map((input) => ({ ...input, data: input.data.slice() })),
  };
}
