import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type CallOptionsV1,
  type Lineage,
  MlscaleError,
  type ModelOperationsV1,
  type ModelVersion,
  parseSpec,
  type RegisterModelInput,
  registerModelSchema,
  resourceNameSchema,
  type TrainingJobStatus,
} from '@mlscale/core';
import { z } from 'zod';
import { computeFeatureBaseline, type FeatureBaseline } from '../monitoring/feature-baseline.js';
import { localPath } from '../training/local-path.js';
import { listFiles } from './artifact-hash.js';
import { storeBlob } from './blob-store.js';
import { registryPaths } from './registry-paths.js';
import { readVerifiedModel, type VerifiedModel } from './verified-model-read.js';
import { createVersion, listVersionNumbers, readVersion, type StoredVersion } from './version-store.js';

/** Settings of the local model registry. */
export const localModelRegistrySettingsSchema = z
  .object({
    /** The store lives in `<root>/registry/`. Default `.mlscale` under the working directory. */
    root: z.string().min(1, 'expected a directory path').optional(),
    /** Provider id reported in errors. Default `local`. */
    provider: z.string().min(1).default('local'),
  })
  .strict();
export type LocalModelRegistrySettingsInput = z.input<typeof localModelRegistrySettingsSchema>;

/** What `registerJobModel` takes besides the job. */
export const registerJobModelOptionsSchema = z
  .object({
    /** The registered model's name. */
    name: resourceNameSchema,
    /** Merged over what the job gives (its final metrics and name). */
    metadata: z.record(z.string(), z.unknown()).default({}),
    /** Training rows to record per-feature baselines from (for drift monitoring). */
    baselineRows: z.array(z.array(z.number())).min(1, 'expected at least one row').optional(),
    /** Quantile bins per feature for the baselines. Default 10. */
    baselineBins: z.number().int().min(2).max(100).default(10),
  })
  .strict();
export type RegisterJobModelOptions = z.input<typeof registerJobModelOptionsSchema>;

/** The local registry: core's `ModelOperationsV1`, plus verified loading and one-call job registration. */
export interface LocalModelRegistry extends ModelOperationsV1 {
  /** The absolute root (`<root>/registry/`). */
  readonly root: string;
  /** `doRegister` with validation and defaults applied, for direct use. */
  register(input: RegisterModelInput): Promise<ModelVersion>;
  /**
   * The local path of a version's model file, after re-checking its sha256. Throws `NotFound` for an
   * unknown version and a non-retryable `BackendFailure` when the stored bytes no longer match.
   */
  resolve(name: string, version?: number | 'latest'): Promise<string>;
  /**
   * A version's model file and its bytes, read once and checked against the registered sha256 (what a
   * deploy loads: the bytes verified are the bytes served). Throws as `resolve` does.
   */
  load(name: string, version?: number | 'latest'): Promise<VerifiedModel>;
  /** Registers a Completed job's model with its lineage (job, inputs, hyperparameters) and metrics. */
  registerJobModel(job: TrainingJobStatus, options: RegisterJobModelOptions): Promise<ModelVersion>;
}

/** A content-addressed model store on disk, safe with concurrent writers in several processes. */
export function createLocalModelRegistry(
  settingsInput: LocalModelRegistrySettingsInput = {},
): LocalModelRegistry {
  const settings = parseSpec(
    localModelRegistrySettingsSchema,
    settingsInput,
    'local model registry settings',
  );
  const provider = settings.provider;
  const root = resolve(settings.root ?? '.mlscale');
  const paths = registryPaths(root);

  function toModelVersion(stored: StoredVersion): ModelVersion {
    return {
      name: stored.name,
      version: stored.version,
      format: stored.format,
      uri: stored.uri,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      createdAt: new Date(stored.createdAt),
      metadata: stored.metadata,
      lineage: stored.lineage as Lineage,
      ...(stored.baseline ? { baseline: stored.baseline as FeatureBaseline[] } : {}),
    };
  }

  async function find(
    name: string,
    version: number | 'latest' | undefined,
  ): Promise<StoredVersion | undefined> {
    parseSpec(resourceNameSchema, name, 'model name');
    if (version !== undefined && version !== 'latest' && !(Number.isInteger(version) && version > 0)) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider,
        message: `Invalid model version: expected a whole number above 0 or 'latest', got ${String(version)}.`,
        issues: [{ path: 'version', message: "expected a whole number above 0 or 'latest'" }],
      });
    }
    const number =
      version === undefined || version === 'latest'
        ? (await listVersionNumbers(paths.models, name)).at(-1)
        : version;
    return number === undefined ? undefined : readVersion(paths.models, name, number);
  }

  /** A folder artifact's model file: the one `.onnx` file in it. */
  async function modelFileIn(directory: string, source: string): Promise<string> {
    const candidates = (await listFiles(directory)).filter((file) => file.endsWith('.onnx'));
    if (candidates.length === 1) return candidates[0]!;
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Invalid model registration: path: expected an .onnx file, or a folder with exactly one .onnx file; ${source} has ${candidates.length}.`,
      issues: [{ path: 'path', message: 'expected an .onnx file or a folder with exactly one' }],
    });
  }

  async function register(input: unknown): Promise<ModelVersion> {
    const spec = parseSpec(registerModelSchema, input, 'model registration');
    const source = localPath(spec.path);
    if (!source) {
      throw new MlscaleError({
        code: 'Unsupported',
        provider,
        message: `The local registry stores local files and file:// URIs only, got ${spec.path.replace(/\?.*$/, '?…')}. Download the artifact first.`,
      });
    }
    const sourceStat = await stat(source).catch(() => undefined);
    if (!sourceStat) {
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `Model artifact ${source} does not exist.`,
      });
    }
    const modelFile = sourceStat.isDirectory() ? await modelFileIn(source, source) : undefined;
    const blob = await storeBlob(paths, source);
    const stored = await createVersion(paths.models, spec.name, (version) => ({
      name: spec.name,
      version,
      format: spec.format,
      uri: blob.path,
      sha256: blob.sha256,
      sizeBytes: blob.sizeBytes,
      createdAt: new Date().toISOString(),
      metadata: spec.metadata,
      lineage: spec.lineage,
      ...(spec.baseline ? { baseline: spec.baseline } : {}),
      ...(modelFile ? { modelFile } : {}),
    }));
    return toModelVersion(stored);
  }

  const registry: LocalModelRegistry = {
    root: paths.directory,

    doRegister: (spec, _options: CallOptionsV1) => register(spec),
    register,

    async doGet(name, version) {
      const stored = await find(name, version);
      return stored ? toModelVersion(stored) : undefined;
    },

    async *doList(name) {
      const names =
        name === undefined
          ? await readdir(paths.models).catch((error: NodeJS.ErrnoException) => {
              if (error.code === 'ENOENT') return [] as string[];
              throw error;
            })
          : [parseSpec(resourceNameSchema, name, 'model name')];
      const versions: StoredVersion[] = [];
      for (const modelName of names) {
        if (!resourceNameSchema.safeParse(modelName).success) continue;
        for (const number of await listVersionNumbers(paths.models, modelName)) {
          const stored = await readVersion(paths.models, modelName, number);
          if (stored) versions.push(stored);
        }
      }
      versions.sort(
        (left, right) => right.createdAt.localeCompare(left.createdAt) || right.version - left.version,
      );
      for (const stored of versions) yield toModelVersion(stored);
    },

    async resolve(name, version = 'latest') {
      return (await registry.load(name, version)).path;
    },

    async load(name, version = 'latest') {
      const stored = await find(name, version);
      if (!stored) {
        throw new MlscaleError({
          code: 'NotFound',
          provider,
          message: `Model '${name}' ${version === 'latest' ? 'has no versions' : `has no version ${version}`} in ${paths.directory}.`,
        });
      }
      const verified = await readVerifiedModel(stored);
      if (typeof verified === 'object') return verified;
      throw new MlscaleError({
        code: 'BackendFailure',
        retryable: false,
        provider,
        message: `Model '${name}' version ${stored.version} failed its integrity check: ${
          verified ?? `its artifact ${stored.uri} is missing`
        }, but it was registered as ${stored.sha256}. The stored artifact was changed or damaged; register the model again.`,
      });
    },

    async registerJobModel(job, optionsInput) {
      const options = parseSpec(registerJobModelOptionsSchema, optionsInput, 'job model registration');
      if (job.state !== 'Completed' || !job.modelUri) {
        throw new MlscaleError({
          code: 'Conflict',
          provider,
          message: `Training job '${job.name}' is ${job.state}${job.modelUri ? '' : ' and has no model'}; only a Completed job's model can be registered.`,
        });
      }
      const lineage: Lineage = {
        jobName: job.name,
        inputs: Object.fromEntries(
          Object.entries(job.spec.inputs).map(([channel, input]) => [channel, input.uri]),
        ),
        hyperparameters: job.spec.hyperparameters,
      };
      return register({
        name: options.name,
        path: job.modelUri,
        metadata: { trainingJob: job.name, metrics: job.finalMetrics ?? {}, ...options.metadata },
        lineage,
        ...(options.baselineRows
          ? { baseline: computeFeatureBaseline(options.baselineRows, { bins: options.baselineBins }) }
          : {}),
      });
    },
  };
  return registry;
}
