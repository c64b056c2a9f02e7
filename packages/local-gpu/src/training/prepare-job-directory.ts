import { cp, mkdir, stat, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MlscaleError, type TrainingJobSpec } from '@mlscale/core';
import { inputDataConfig, type JobTopology, resourceConfig } from './container-environment.js';
import type { JobPaths } from './job-paths.js';
import { localPath } from './local-path.js';
import { writeFileAtomically } from './write-file-atomically.js';

/**
 * Lays the job directory out like SageMaker's `/opt/ml`: channels under `input/data/<channel>` (copied,
 * or linked for `link` and `stream`), the config files under `input/config/`, and empty `model/`,
 * `output/data/` and `checkpoints/` (restored from `spot.checkpointPath` when it has any).
 */
export async function prepareJobDirectory(
  spec: TrainingJobSpec,
  paths: JobPaths,
  topology: JobTopology,
  provider: string,
): Promise<void> {
  for (const directory of [
    paths.inputData,
    paths.inputConfig,
    paths.model,
    paths.outputData,
    paths.checkpoints,
  ]) {
    await mkdir(directory, { recursive: true });
  }
  for (const [channel, input] of Object.entries(spec.inputs)) {
    const source = requireLocal(input.uri, `inputs.${channel}.uri`, provider);
    const sourceStat = await stat(source).catch(() => undefined);
    if (!sourceStat) {
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `Input channel '${channel}': ${source} does not exist. Point inputs.${channel}.uri at a local file or folder.`,
      });
    }
    const target = join(paths.inputData, channel);
    // A single file becomes the one file of its channel folder, as an S3 object does.
    const destination = sourceStat.isDirectory() ? target : join(target, basename(source));
    if (!sourceStat.isDirectory()) await mkdir(target, { recursive: true });
    if (input.mode === 'copy') await cp(source, destination, { recursive: true });
    else await symlink(source, destination);
  }
  const hyperparameters = Object.fromEntries(
    Object.entries(spec.hyperparameters).map(([name, value]) => [name, String(value)]),
  );
  await writeFileAtomically(paths.hyperparameters, JSON.stringify(hyperparameters, null, 2));
  await writeFileAtomically(paths.inputDataConfig, JSON.stringify(inputDataConfig(spec), null, 2));
  await writeFileAtomically(paths.resourceConfig, JSON.stringify(resourceConfig(spec, topology, 0), null, 2));
  if (spec.spot?.checkpointPath) {
    const kept = requireLocal(spec.spot.checkpointPath, 'spot.checkpointPath', provider);
    if (await stat(kept).catch(() => undefined)) await cp(kept, paths.checkpoints, { recursive: true });
  }
}

/** Copies `checkpoints/` to `spot.checkpointPath`, as SageMaker syncs it to S3. */
export async function saveCheckpoints(
  spec: TrainingJobSpec,
  paths: JobPaths,
  provider: string,
): Promise<void> {
  if (!spec.spot?.checkpointPath) return;
  const kept = requireLocal(spec.spot.checkpointPath, 'spot.checkpointPath', provider);
  await mkdir(kept, { recursive: true });
  await cp(paths.checkpoints, kept, { recursive: true });
}

/** A local path, or an `Unsupported` error naming the field. */
export function requireLocal(uri: string, field: string, provider: string): string {
  const path = localPath(uri);
  if (path) return path;
  throw new MlscaleError({
    code: 'Unsupported',
    provider,
    message: `${field}: the local backend reads local paths and file:// URIs only, got ${uri.replace(/\?.*$/, '?…')}. Download the data first, or train on a cloud backend.`,
  });
}
