import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import {
  cloudCall,
  type DeploymentRecord,
  deploymentRecordFromJson,
  deploymentRecordToJson,
} from '@mlscale/core/provider-utils';
import { z } from 'zod';
import { writeFileAtomically } from '../training/write-file-atomically.js';
import type { DeploymentEffectRunner } from './deployment-effects.js';
import type { ServingProcess } from './serving-process.js';
import { classifySystemError } from './system-errors.js';

/** What the state directory holds for one deployment. */
export interface StoredDeployment {
  /** Core's deployment record: the desired and serving specs (sealed), deletion, the last refusal. */
  record: DeploymentRecord;
  /** When the deployment was first recorded. */
  createdAt: Date;
  /** The process whose server serves it, once one has started. */
  process?: ServingProcess;
}

/** The records of a backend's deployments, one JSON file each under `<root>/deployments/`. */
export interface DeploymentRecordStore {
  readonly directory: string;
  /** The file of one deployment. */
  pathOf(name: string): string;
  read(name: string, signal?: AbortSignal): Promise<StoredDeployment | undefined>;
  /** Names of the recorded deployments. */
  names(signal?: AbortSignal): Promise<string[]>;
  /** Replaces the file atomically (a temporary file renamed over it). */
  write(name: string, stored: StoredDeployment, signal?: AbortSignal): Promise<void>;
  remove(name: string, signal?: AbortSignal): Promise<void>;
}

const fileFormat = 'mlscale.local.deployment/1';
const dateSchema = z
  .string()
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), 'expected an ISO date');

/**
 * The file: the record in core's JSON form (`deploymentRecordToJson`: what the cloud backends gzip into
 * tags; readable here, so `cat` and `grep` show what is recorded and that no secret is), when it was
 * created, and the serving process.
 */
const storedFileSchema = z.object({
  format: z.literal(fileFormat),
  name: z.string(),
  createdAt: dateSchema,
  record: z.unknown(),
  process: z
    .object({
      pid: z.number().int(),
      backend: z.string(),
      url: z.string(),
      startedAt: dateSchema,
      stoppedAt: dateSchema.optional(),
    })
    .optional(),
});

/** Creates the store; every write and removal passes through `runEffect` (tests inject faults there). */
export function createDeploymentRecordStore(
  root: string,
  runEffect: DeploymentEffectRunner,
): DeploymentRecordStore {
  const directory = join(root, 'deployments');
  const pathOf = (name: string) => join(directory, `${name}.json`);
  const call = <T>(what: string, signal: AbortSignal | undefined, run: () => Promise<T>) =>
    cloudCall({ what, signal, classify: classifySystemError }, run);

  return {
    directory,
    pathOf,
    async read(name, signal) {
      const path = pathOf(name);
      const text = await call(`Reading ${path}`, signal, () =>
        readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        }),
      );
      return text === undefined ? undefined : decodeStoredDeployment(name, path, text);
    },
    async names(signal) {
      const entries = await call(`Listing ${directory}`, signal, () =>
        readdir(directory).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return [];
          throw error;
        }),
      );
      return entries
        .filter((entry) => entry.endsWith('.json'))
        .map((entry) => entry.slice(0, -'.json'.length))
        .sort();
    },
    async write(name, stored, signal) {
      const path = pathOf(name);
      await call(`Writing ${path}`, signal, () =>
        runEffect('WriteRecord', name, async () => {
          await mkdir(directory, { recursive: true });
          await writeFileAtomically(path, encodeStoredDeployment(name, stored));
        }),
      );
    },
    async remove(name, signal) {
      const path = pathOf(name);
      await call(`Removing ${path}`, signal, () =>
        runEffect('DeleteRecord', name, () => rm(path, { force: true })),
      );
    },
  };
}

function encodeStoredDeployment(name: string, stored: StoredDeployment): string {
  const { record, process } = stored;
  const file = {
    format: fileFormat,
    name,
    createdAt: stored.createdAt.toISOString(),
    record: deploymentRecordToJson(record),
    ...(process
      ? {
          process: {
            pid: process.pid,
            backend: process.backend,
            url: process.url,
            startedAt: process.startedAt.toISOString(),
            ...(process.stoppedAt ? { stoppedAt: process.stoppedAt.toISOString() } : {}),
          },
        }
      : {}),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

function decodeStoredDeployment(name: string, path: string, text: string): StoredDeployment {
  const damaged = (why: string) =>
    new MlscaleError({
      code: 'BackendFailure',
      provider: 'local',
      message: `The record of deployment '${name}' at ${path} cannot be read (${why}); restore the file, or remove it to forget the deployment (its server, if one runs, stops with its process).`,
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  const file = storedFileSchema.safeParse(json);
  if (!file.success) throw damaged(file.error.issues[0]?.message ?? 'unexpected content');
  if (file.data.name !== name) throw damaged(`it names deployment '${file.data.name}'`);
  const decoded = deploymentRecordFromJson(file.data.record);
  if ('problem' in decoded) throw damaged(decoded.problem);
  const { record } = decoded;
  return {
    record,
    createdAt: file.data.createdAt,
    ...(file.data.process ? { process: file.data.process } : {}),
  };
}
