import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import { readJsonFile } from '../training/write-file-atomically.js';

/** A version's metadata as stored: `models/<name>/<version>.json`. */
export interface StoredVersion {
  name: string;
  version: number;
  format: 'onnx';
  uri: string;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
  metadata: Record<string, unknown>;
  lineage: Record<string, unknown>;
  baseline?: unknown[];
  /** For folder artifacts: the model file inside, relative to the folder. */
  modelFile?: string;
}

const versionFile = /^([1-9][0-9]*)\.json$/;
const maximumAttempts = 10_000;

/** Version numbers of a model, ascending. */
export async function listVersionNumbers(modelsDirectory: string, name: string): Promise<number[]> {
  const names = await readdir(join(modelsDirectory, name)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names
    .map((file) => versionFile.exec(file)?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number)
    .sort((left, right) => left - right);
}

/**
 * Assigns the next version and writes its metadata in one step: the complete file is written under a
 * temporary name and hard-linked to `<version>.json`. `link` fails if that name exists, atomically,
 * across processes, so two writers never get the same version and no reader sees a partial file; the
 * loser of a race tries the next number.
 */
export async function createVersion(
  modelsDirectory: string,
  name: string,
  build: (version: number) => StoredVersion,
): Promise<StoredVersion> {
  const directory = join(modelsDirectory, name);
  await mkdir(directory, { recursive: true });
  const versions = await listVersionNumbers(modelsDirectory, name);
  let version = (versions.at(-1) ?? 0) + 1;
  for (let attempt = 0; attempt < maximumAttempts; attempt++, version++) {
    const stored = build(version);
    const temporary = join(directory, `.${randomUUID()}.tmp`);
    await writeFile(temporary, JSON.stringify(stored, null, 2));
    try {
      await link(temporary, join(directory, `${version}.json`));
      return stored;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temporary);
    }
  }
  throw new Error(`could not assign a version to '${name}' after ${maximumAttempts} attempts`);
}

/** One version's metadata, or `undefined`; a damaged file is a `BackendFailure` that names it. */
export async function readVersion(
  modelsDirectory: string,
  name: string,
  version: number,
): Promise<StoredVersion | undefined> {
  const path = join(modelsDirectory, name, `${version}.json`);
  let stored: unknown;
  try {
    stored = await readJsonFile<unknown>(path);
  } catch (error) {
    throw damaged(path, error instanceof Error ? error.message : String(error));
  }
  if (stored === undefined) return undefined;
  const shape = stored as Partial<StoredVersion> | null;
  if (
    typeof shape !== 'object' ||
    shape === null ||
    typeof shape.uri !== 'string' ||
    typeof shape.sha256 !== 'string' ||
    shape.version !== version
  ) {
    throw damaged(path, 'it is not a version record (uri, sha256 and version)');
  }
  return stored as StoredVersion;
}

function damaged(path: string, reason: string): MlscaleError {
  return new MlscaleError({
    code: 'BackendFailure',
    retryable: false,
    provider: 'local',
    message: `The registry file ${path} cannot be read: ${reason}. It is damaged; remove it (the version goes) or restore it.`,
  });
}
