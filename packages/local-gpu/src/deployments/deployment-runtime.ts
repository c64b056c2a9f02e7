import {
  type Batching,
  batchingSchema,
  canonicalJson,
  type DeploymentSpec,
  type DeploymentStatus,
  MlscaleError,
  rolloutSchema,
} from '@mlscale/core';
import type { ModelSignature } from '../onnx/model-signature.js';
import type { DeviceSelection, ProviderProbe } from '../runtime/device-selection.js';
import { selectDevice } from '../runtime/device-selection.js';
import { type GrpcInferenceServer, startGrpcInferenceServer } from '../server/grpc-server.js';
import {
  type AnsweredRequest,
  type InferenceServer,
  type RequestObserver,
  startInferenceServer,
} from '../server/inference-server.js';
import type { ServedModel } from '../server/served-model.js';
import { createServingMetrics } from '../server/serving-metrics.js';
import { type Autoscaler, createAutoscaler } from './autoscaler.js';
import { createCandidateWatch } from './candidate-watch.js';
import { type DeploymentEffectRunner, runEffectDirectly } from './deployment-effects.js';
import { deviceRequest, refuseServerOptionChanges } from './deployment-spec-checks.js';
import { InferenceError, type InferenceRequest, type InferenceResult } from './inference-types.js';
import type { LocalDeploymentOptions } from './local-deployment-options.js';
import { recordedSpecHash } from './local-secrets.js';
import { loadModel, type RegistryModelResolver } from './model-loader.js';
import { createModelVersion, type LoadedModel } from './model-version.js';
import { driveRollout } from './rollout-driver.js';
import {
  type PlacedVersion,
  type RuntimeEvent,
  type RuntimeState,
  type RuntimeTarget,
  transition,
  versionsOf,
} from './runtime-phase.js';
import { observeRuntime, type RuntimeObservation, runtimeStatus } from './runtime-status.js';
import { createTrafficRouter } from './traffic-router.js';

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
  /** Runs the side effects that can fail (a rollout's start here); default: as they are. */
  runEffect?: DeploymentEffectRunner | undefined;
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
  /** What runs in this process, as a status (the backend's status puts the record over it). */
  status(): DeploymentStatus;
  /** The phase in mlscale's terms, for reconcile to compare with the record. */
  observe(): RuntimeObservation;
  readonly url: string;
  /** The gRPC server's `host:port` (`providerOptions.local.grpcPort`); undefined when none serves. */
  readonly grpcUrl: string | undefined;
  /** HTTP requests the server is handling now. */
  readonly activeRequests: number;
  /**
   * Hands the runtime a whole new spec while it serves. Replicas, autoscaling and batching change in
   * place; a new model, device or thread count rolls out as a new version in the background (watch
   * `observe()`). The server's own settings (address, token, TLS, limits, routes) cannot change.
   */
  apply(spec: DeploymentSpec, local: LocalDeploymentOptions): Promise<void>;
  /** Resolves once the deployment first serves (InService) or fails to start (Failed). */
  settled(): Promise<void>;
  /** Rolls back the rollout in progress (an alert fired); false when none is running. */
  requestRollback(reason: string): boolean;
  /** Reports a request answered without HTTP (the client's in-process predict) to the monitor. */
  recordRequest(record: AnsweredRequest): void;
  /** Stops taking connections, drains in-flight requests, stops the replicas; the same promise each call. */
  close(): Promise<void>;
}

const defaultBatching: Batching = batchingSchema.parse({});

/** Version labels "1", "2", ...: the V2 `model_version` of each version a runtime creates. */
function labelSequence(): () => string {
  let last = 0;
  return () => String(++last);
}
const batchingOf = (spec: DeploymentSpec) => spec.batching ?? defaultBatching;

/**
 * Creates a deployment: loads and checks the model, chooses the device, binds the server, then starts
 * replicas in the background (starting → serving, or failed with the reason). Its life is the state
 * machine of `runtime-phase.ts`: one state, changed only by `transition`.
 */
export async function createDeploymentRuntime(
  initialSpec: DeploymentSpec,
  local: LocalDeploymentOptions,
  environment: DeploymentEnvironment,
): Promise<DeploymentRuntime> {
  const { name } = initialSpec;
  const runEffect = environment.runEffect ?? runEffectDirectly;
  const options = { ...environment.defaults, ...local };
  const model = await loadModel(initialSpec.model, environment);
  const device = await selectDevice(deviceRequest(initialSpec, options), environment.probe);
  const metrics = createServingMetrics(name, { gpuStats: device.used === 'cuda' });
  metrics.setDevice(device);
  const createdAt = new Date();
  const nextLabel = labelSequence();

  const newVersion = (
    loaded: LoadedModel,
    selection: DeviceSelection,
    spec: DeploymentSpec,
    threads: number | undefined,
  ): PlacedVersion => ({
    device: selection,
    threads: threads ?? 1,
    version: createModelVersion({
      label: nextLabel(),
      model: loaded,
      batching: batchingOf(spec),
      device: selection,
      intraOpThreads: threads ?? 1,
      ortPath: environment.ortPath,
      metrics,
      onDemandWithoutReplicas: () => autoscaler.demand(),
      onReplicasChanged: () => {},
      onReplicaCrashed: (replicaId, reason) =>
        environment.log(
          `deployment ${name}: replica ${replicaId} ended unexpectedly (${reason}); replacing it`,
        ),
    }),
  });

  let state: RuntimeState = {
    phase: { kind: 'starting' },
    stable: newVersion(model, device, initialSpec, options.intraOpThreads),
    target: { spec: initialSpec, hash: recordedSpecHash(initialSpec) },
    updatedAt: createdAt,
  };
  let settle: () => void = () => {};
  const settledPromise = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const dispatch = (event: RuntimeEvent) => {
    const next = transition(state, event);
    if (next === state) return;
    state = next;
    if (next.phase.kind === 'serving' || next.phase.kind === 'failed') settle();
  };

  const autoscaler: Autoscaler = createAutoscaler({
    intervalMs: environment.autoscaleIntervalMs,
    target: () => state.stable.version,
    log: environment.log,
  });
  const router = createTrafficRouter();
  const versions = () => versionsOf(state).map((placed) => placed.version);
  const telemetry = environment.monitorDeployment?.(initialSpec, {
    replicas: () => versions().reduce((sum, version) => sum + version.readyReplicas, 0),
    queueDepth: () => versions().reduce((sum, version) => sum + version.batcher.pending, 0),
    usesGpu: () => state.stable.device.used === 'cuda',
  });
  /** Feeds float inputs to drift detection (the baseline is per feature of the first input). */
  const observeInputs = (request: InferenceRequest) => {
    const first = request.inputs[0];
    if (telemetry && first && (first.datatype === 'FP32' || first.datatype === 'FP64'))
      telemetry.observeInputs(first.data as ArrayLike<number>);
  };
  const findVersion = (label: string) => versions().find((version) => version.label === label);

  const served: ServedModel = {
    name,
    metrics,
    versions: () => versions().map((version) => version.label),
    signature(version?: string): ModelSignature | undefined {
      return (version === undefined ? state.stable.version : findVersion(version))?.model.signature;
    },
    ready(version?: string) {
      const { phase, stable } = state;
      if (phase.kind !== 'serving' && phase.kind !== 'rolling-out' && phase.kind !== 'rolling-back')
        return false;
      const target = version === undefined ? stable.version : findVersion(version);
      if (!target) return false;
      return (
        target.readyReplicas > 0 ||
        (state.target.spec.autoscaling?.minReplicas === 0 && target === stable.version)
      );
    },
    async infer(request: InferenceRequest, version?: string): Promise<InferenceResult> {
      observeInputs(request);
      if (version !== undefined) {
        const target = findVersion(version);
        if (!target) {
          throw new InferenceError(
            404,
            `model '${name}' has no version '${version}'; versions: ${served.versions().join(', ')}`,
            'not_found',
          );
        }
        return target.infer(request);
      }
      const { phase, stable } = state;
      const rolling = phase.kind === 'rolling-out' ? phase : undefined;
      return router.route(request, {
        stable: stable.version,
        canary: rolling?.canary.version,
        weight: rolling?.weight ?? 0,
        watch: rolling?.watch,
      });
    },
  };

  let server: InferenceServer;
  try {
    server = await startInferenceServer({
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
  } catch (error) {
    await state.stable.version.close();
    throw error;
  }
  let grpcServer: GrpcInferenceServer | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpcServer = await startGrpcInferenceServer({
        model: served,
        host: options.host ?? '127.0.0.1',
        port: options.grpcPort,
        token: options.token,
        allowUnauthenticated: options.allowUnauthenticated,
        tls: options.tls,
        maxMessageBytes: options.maxBodyBytes,
        observer: telemetry,
      });
    } catch (error) {
      await server.close(0);
      await state.stable.version.close();
      throw error;
    }
  }

  /** Batching and autoscaling apply to whichever version ends up serving. */
  const configureInPlace = (spec: DeploymentSpec) => {
    for (const version of versions()) version.configure(batchingOf(spec));
    const policy = spec.autoscaling ?? null;
    if (canonicalJson(policy) !== canonicalJson(autoscaler.policy)) autoscaler.setPolicy(policy);
  };

  /** Sets the serving version's replica count for a change: serving{scaling} until it converges. */
  const scaleServing = (replicas: number, target: RuntimeTarget) => {
    const stable = state.stable.version;
    const request = { replicas };
    dispatch({ type: 'changed-in-place', target, scaling: request });
    stable.setReplicas(replicas).then(
      () => dispatch({ type: 'scaled', request }),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        environment.log(`deployment ${name}: scaling to ${replicas} failed`, { error: message });
        dispatch({
          type: 'scaling-failed',
          request,
          reason: `scaling to ${replicas} replicas failed: ${message}`,
        });
      },
    );
  };

  const applyInPlace = (target: RuntimeTarget) => {
    configureInPlace(target.spec);
    const stable = state.stable.version;
    const { replicas, autoscaling } = target.spec;
    if (autoscaling || (stable.desiredReplicas === replicas && stable.readyReplicas === replicas)) {
      dispatch({ type: 'changed-in-place', target });
      return;
    }
    scaleServing(replicas, target);
  };

  /** Changes apply only while serving (reconcile waits out a start, a rollout or a rollback). */
  const refuseUnlessServing = () => {
    if (state.phase.kind === 'serving') return;
    throw new MlscaleError({
      code: 'Conflict',
      provider: 'local',
      retryable: true,
      message: `Deployment '${name}' is ${observeRuntime(state).reason ?? state.phase.kind}; a change applies once it serves.`,
    });
  };

  /** The close under way, once asked for: every caller waits on the same one. */
  let closed: Promise<void> | undefined;
  const runtime: DeploymentRuntime = {
    ...served,
    recordRequest(record) {
      telemetry?.recordRequest(record);
    },
    requestRollback(reason) {
      if (state.phase.kind !== 'rolling-out') return false;
      dispatch({ type: 'rollback-requested', reason });
      return true;
    },
    get url() {
      return server.url;
    },
    get grpcUrl() {
      return grpcServer?.url;
    },
    get activeRequests() {
      return server.activeRequests;
    },
    status: () =>
      runtimeStatus(state, {
        name,
        url: server.url,
        grpcUrl: grpcServer?.url,
        createdAt,
        autoscaling: autoscaler.policy,
        lastScaling: autoscaler.lastDecision,
      }),
    observe: () => observeRuntime(state),
    async apply(nextSpec, nextLocal) {
      refuseUnlessServing();
      const nextOptions = { ...environment.defaults, ...nextLocal };
      refuseServerOptionChanges(name, options, nextOptions);
      const target: RuntimeTarget = { spec: nextSpec, hash: recordedSpecHash(nextSpec) };
      const { stable } = state;
      const nextDeviceRequest = deviceRequest(nextSpec, nextOptions);
      const modelChanged = canonicalJson(nextSpec.model) !== stable.version.model.reference;
      const deviceChanged = nextDeviceRequest !== stable.device.requested;
      const threadsChanged = (nextOptions.intraOpThreads ?? 1) !== stable.threads;
      if (!modelChanged && !deviceChanged && !threadsChanged) {
        applyInPlace(target);
        return;
      }
      const next = await runEffect('StartRollout', name, async () => ({
        model: modelChanged ? await loadModel(nextSpec.model, environment) : stable.version.model,
        device: deviceChanged ? await selectDevice(nextDeviceRequest, environment.probe) : stable.device,
      }));
      // The phase may have moved on while the model loaded (a close).
      refuseUnlessServing();
      configureInPlace(nextSpec);
      const canary = newVersion(next.model, next.device, nextSpec, nextOptions.intraOpThreads);
      const rollout = nextSpec.rollout ?? rolloutSchema.parse({});
      const watch = createCandidateWatch({
        stableLabel: stable.version.label,
        candidateLabel: canary.version.label,
        verifyRequests: rollout.minRequests,
        onRegression: () => canary.version.stats.requestRegressed(),
      });
      dispatch({ type: 'rollout-started', target, canary, watch });
      // The candidate starts with the count the spec asks for (the autoscaler's current one when scaled).
      const replicas = nextSpec.autoscaling ? state.stable.version.desiredReplicas : nextSpec.replicas;
      void driveRollout({ name, state: () => state, dispatch, log: environment.log }, canary, {
        rollout,
        replicas: Math.max(1, replicas),
        servingReplicas: nextSpec.autoscaling ? undefined : nextSpec.replicas,
      });
    },
    settled: () => settledPromise,
    close() {
      closed ??= (async () => {
        const open = versions();
        dispatch({ type: 'closing' });
        autoscaler.stop();
        await Promise.all([server.close(), grpcServer?.close()]);
        await Promise.all(open.map((version) => version.close()));
        dispatch({ type: 'closed' });
      })();
      return closed;
    },
  };

  autoscaler.setPolicy(initialSpec.autoscaling ?? null);
  state.stable.version.setReplicas(initialSpec.replicas).then(
    () => dispatch({ type: 'replicas-started' }),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      dispatch({ type: 'replicas-failed', reason: `replicas failed to start: ${message}` });
      void state.stable.version.setReplicas(0).catch(() => {});
    },
  );
  autoscaler.start();
  return runtime;
}
