import { resolve } from 'node:path';
import {
  type BackendCapabilitiesV1,
  type BackendV1,
  type ModelOperationsV1,
  type MonitoringOperationsV1,
  noCapabilitiesV1,
  parseSpec,
  redact,
  type TrainingOperationsV1,
} from '@mlscale/core';
import { z } from 'zod';
import {
  createDeploymentOperations,
  type LocalDeploymentOperations,
} from './deployments/deployment-operations.js';
import type { RegistryModelResolver } from './deployments/model-loader.js';
import { onnxruntimeCudaProbe } from './runtime/cuda-probe.js';
import type { ProviderProbe } from './runtime/device-selection.js';
import { onnxruntimeEntryPath } from './runtime/onnxruntime-location.js';

const functionSchema = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `expected ${what} (a function)` });

/** Settings of `localGpu()`. */
export const localGpuSettingsSchema = z
  .object({
    /** Where the backend keeps its state (registry, jobs, logs). Default `.mlscale/` under the working directory. */
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
  })
  .strict();
export type LocalGpuSettings = z.input<typeof localGpuSettingsSchema>;

/** The local backend. `training`, `models` and `monitoring` are attached by their own modules. */
export interface LocalGpuBackend extends BackendV1 {
  readonly provider: 'local';
  /** The state directory (absolute). */
  readonly root: string;
  readonly deployments: LocalDeploymentOperations;
  training?: TrainingOperationsV1;
  models?: ModelOperationsV1;
  monitoring?: MonitoringOperationsV1;
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
  const deployments = createDeploymentOperations({
    baseDirectory: process.cwd(),
    resolveRegistryModel: parsed.resolveRegistryModel,
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
  });
  const capabilities: BackendCapabilitiesV1 = {
    ...noCapabilitiesV1,
    scaleToZero: true,
    autoscaling: true,
    gpu: true,
    // Traffic moves between versions through update's rollout steps; a static `traffic` split is not served.
    trafficSplit: false,
  };
  return {
    specificationVersion: 'v1',
    provider: 'local',
    capabilities,
    root,
    deployments,
    // Seam: the training, models and monitoring groups (and their capabilities) attach here, sharing `root`.
    async close() {
      await deployments.closeAll();
    },
  };
}
