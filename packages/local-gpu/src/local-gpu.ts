import { resolve } from 'node:path';
import {
  type BackendCapabilitiesV1,
  type BackendV1,
  type ModelVersion,
  noCapabilitiesV1,
  parseSpec,
  redact,
} from '@mlscale/core';
import { z } from 'zod';
import type { DeploymentEffectRunner } from './deployments/deployment-effects.js';
import {
  createDeploymentOperations,
  type LocalDeploymentOperations,
} from './deployments/deployment-operations.js';
import type { RegistryModelResolver } from './deployments/model-loader.js';
import {
  createLocalMonitoring,
  type LocalMonitoring,
  localMonitoringSettingsSchema,
} from './monitoring/index.js';
import { createLocalModelRegistry, type LocalModelRegistry } from './registry/index.js';
import { onnxruntimeCudaProbe } from './runtime/cuda-probe.js';
import type { ProviderProbe } from './runtime/device-selection.js';
import { onnxruntimeEntryPath } from './runtime/onnxruntime-location.js';
import { createLocalTraining, type LocalTraining } from './training/index.js';

const functionSchema = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `expected ${what} (a function)` });

/** Settings of `localGpu()`. */
export const localGpuSettingsSchema = z
  .object({
    /**
     * Where the backend keeps its state (deployment records, registry, jobs, logs). Default `.mlscale/`
     * under the working directory.
     */
    root: z.string().min(1).optional(),
    /** Device for deployments that do not say: `auto` (default), `cuda` or `cpu`. */
    device: z.enum(['auto', 'cuda', 'cpu']).optional(),
    /** Address servers bind by default. Default 127.0.0.1; others need `token`. */
    host: z.string().min(1).optional(),
    /** Bearer token servers require by default (also MLSCALE_TOKEN). */
    token: z.string().min(16, 'expected a token of at least 16 characters').optional(),
    /** onnxruntime intra-op threads per replica. Default 1. */
    intraOpThreads: z.number().int().min(1).max(256).optional(),
    /** How often autoscaling policies are evaluated, ms. Default 1000. */
    autoscaleIntervalMs: z.number().int().min(20).max(600_000).optional(),
    /** Resolves `{ name, version }` model references to files (the local registry attaches this). */
    resolveRegistryModel: functionSchema<RegistryModelResolver>('resolveRegistryModel').optional(),
    /** Diagnostics (scaling decisions, rollouts). Silent by default. */
    logger: z
      .custom<{ info(message: string, fields?: Record<string, unknown>): void }>(
        (value) => typeof (value as { info?: unknown } | null)?.info === 'function',
        { message: 'expected a logger with an info(message, fields) method' },
      )
      .optional(),
    /** Probes the CUDA provider; replaced in tests. */
    cudaProbe: functionSchema<ProviderProbe>('cudaProbe').optional(),
    /**
     * Runs each side effect of a deployment that can fail (record writes and removals, server starts,
     * rollout starts); for tests that log them and inject the errors the system gives. Default: runs them.
     */
    deploymentEffects: functionSchema<DeploymentEffectRunner>('deploymentEffects').optional(),
    /** Local training jobs (see `createLocalTraining`): seconds between SIGTERM and SIGKILL on stop, and more. */
    training: z.record(z.string(), z.unknown()).optional(),
    /**
     * Monitoring: `persist: true` writes metrics and logs under `<root>/metrics` and `<root>/logs`;
     * `retentionSeconds`, `sampleIntervalMs` and `drift` are local monitoring's own settings.
     */
    monitoring: localMonitoringSettingsSchema
      .pick({ retentionSeconds: true, sampleIntervalMs: true, drift: true })
      .extend({ persist: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict();
export type LocalGpuSettings = z.input<typeof localGpuSettingsSchema>;

/** The local backend: deployments, training jobs, a model registry and monitoring, all on this machine. */
export interface LocalGpuBackend extends BackendV1 {
  readonly provider: 'local';
  /** The state directory (absolute). */
  readonly root: string;
  readonly deployments: LocalDeploymentOperations;
  /** Jobs as local processes with the clouds' container contract (plus logs, metrics, a spot-interruption hook). */
  readonly training: LocalTraining;
  /** The content-addressed model store (plus `resolve` and `registerJobModel`). */
  readonly models: LocalModelRegistry;
  /** Metrics, logs, alerts and drift (plus `onAlert`, `onFire` and the metric store). */
  readonly monitoring: LocalMonitoring;
  /**
   * Stops every deployment's server (in-flight requests drain) and every job, and closes monitoring.
   * Deployment records stay under `<root>/deployments`: a later backend on the same root reports them
   * as not running and `reconcile` starts them again.
   */
  close(): Promise<void>;
}

/**
 * The embedded mlscale backend: ONNX models served by onnxruntime-node on this machine (CUDA when it
 * works, CPU otherwise), one HTTP server per deployment speaking KServe V2, SageMaker and Vertex.
 *
 * ```ts
 * const mlscale = createMlscale({ backend: localGpu() });
 * await mlscale.deploy({ name: 'digits', model: { uri: './model.onnx' }, replicas: 2 });
 * ```
 */
export function localGpu(settings: LocalGpuSettings = {}): LocalGpuBackend {
  const parsed = parseSpec(localGpuSettingsSchema, settings, 'localGpu settings');
  const root = resolve(parsed.root ?? '.mlscale');
  const token = parsed.token ?? process.env.MLSCALE_TOKEN;
  const models = createLocalModelRegistry({ root });
  const training = createLocalTraining({ ...parsed.training, root });
  // `deployments` is assigned below; monitoring asks it only after requests arrive.
  let deployments: LocalDeploymentOperations | undefined;
  const monitoringSettings = parsed.monitoring;
  const monitoring = createLocalMonitoring({
    ...(monitoringSettings?.persist ? { root } : {}),
    ...(monitoringSettings ? { retentionSeconds: monitoringSettings.retentionSeconds } : {}),
    ...(monitoringSettings ? { sampleIntervalMs: monitoringSettings.sampleIntervalMs } : {}),
    ...(monitoringSettings?.drift ? { drift: monitoringSettings.drift } : {}),
    deploymentSource: { has: (name: string) => deployments?.runtime(name) !== undefined },
    jobSource: training,
  });
  deployments = createDeploymentOperations(
    {
      baseDirectory: process.cwd(),
      resolveRegistryModel:
        parsed.resolveRegistryModel ?? ((reference) => models.load(reference.name, reference.version)),
      monitorDeployment: (spec, gauges) => {
        const monitor = monitoring.deployment(spec.name, { gauges });
        // A registered model carries its training data's statistics: drift is measured against them.
        if ('name' in spec.model) {
          const { name, version } = spec.model;
          models
            .doGet(name, version === 'latest' ? undefined : version, {})
            .then((found: ModelVersion | undefined) => monitor.setBaseline(found?.baseline))
            .catch(() => monitor.setBaseline(undefined));
        } else {
          monitor.setBaseline(undefined);
        }
        return monitor;
      },
      probe: parsed.cudaProbe ?? onnxruntimeCudaProbe,
      ortPath: onnxruntimeEntryPath(),
      autoscaleIntervalMs: parsed.autoscaleIntervalMs ?? 1000,
      defaults: {
        ...(parsed.host ? { host: parsed.host } : {}),
        ...(token ? { token } : {}),
        ...(parsed.device ? { device: parsed.device } : {}),
        ...(parsed.intraOpThreads ? { intraOpThreads: parsed.intraOpThreads } : {}),
      },
      log: (message, fields) => parsed.logger?.info(message, fields ? redact(fields) : undefined),
      runEffect: parsed.deploymentEffects,
    },
    { root },
  );
  // An alert on a deployment that fires during a rollout rolls it back (as SageMaker's auto-rollback
  // alarms do for blue/green updates).
  monitoring.onFire((rule) => {
    if (!('deployment' in rule.target)) return;
    const rolledBack = deployments
      ?.runtime(rule.target.deployment)
      ?.requestRollback(`alert '${rule.name}' fired (${rule.metric} ${rule.comparator} ${rule.threshold})`);
    if (rolledBack)
      parsed.logger?.info(`deployment ${rule.target.deployment}: rolling back on alert ${rule.name}`);
  });
  const capabilities: BackendCapabilitiesV1 = {
    ...noCapabilitiesV1,
    scaleToZero: true,
    autoscaling: true,
    gpu: true,
    spot: true,
    distributed: true,
    training: true,
    modelRegistry: true,
    monitoring: true,
    // Traffic moves between versions through update's rollout steps; a static `traffic` split is not served.
    trafficSplit: false,
  };
  return {
    specificationVersion: 'v1',
    provider: 'local',
    capabilities,
    root,
    deployments,
    training,
    models,
    monitoring,
    async close() {
      await Promise.all([deployments?.closeAll(), training.close()]);
      await monitoring.close();
    },
  };
}
