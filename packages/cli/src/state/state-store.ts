import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MlscaleError, redact, sleep } from '@mlscale/core';
import {
  emptyState,
  type InFlightOperation,
  type ResourceKind,
  resourceKey,
  type StateDocument,
  type StateResource,
} from './state-document.js';

/** Where state lives for a project and environment. */
export function statePath(directory: string, project: string, environment: string | undefined): string {
  return join(directory, '.mlscale', 'state', `${project}${environment ? `.${environment}` : ''}.json`);
}

/** Reads the state file; no file is an empty state. */
export async function readState(
  directory: string,
  project: string,
  environment: string | undefined,
): Promise<StateDocument> {
  const path = statePath(directory, project, environment);
  if (!existsSync(path)) return emptyState(project, environment);
  try {
    const document = JSON.parse(await readFile(path, 'utf8')) as StateDocument;
    if (document.version !== 1) throw new Error(`unknown version ${String(document.version)}`);
    return document;
  } catch (error) {
    throw new MlscaleError({
      code: 'Conflict',
      message: `State file ${path} is unreadable (${error instanceof Error ? error.message : String(error)}); restore it from a backup or remove it and re-import by applying.`,
      cause: error,
    });
  }
}

/** A locked, writable state: every change is written through at once (a kill loses nothing recorded). */
export interface StateSession {
  readonly document: StateDocument;
  readonly path: string;
  /** Records that an operation is starting. */
  begin(operation: Omit<InFlightOperation, 'startedAt' | 'pid'>): Promise<void>;
  /** Records a resource as applied and clears its in-flight entry. */
  applied(resource: Omit<StateResource, 'appliedAt' | 'spec'> & { spec: unknown }): Promise<void>;
  /** Forgets a resource (destroyed) and clears its in-flight entry. */
  forget(kind: ResourceKind, name: string): Promise<void>;
  /** Clears an in-flight entry without recording anything (the operation failed cleanly). */
  settle(kind: ResourceKind, name: string): Promise<void>;
  /** Releases the lock. */
  close(): Promise<void>;
}

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** Takes the lock (stealing one left by a dead process on this host) and opens the state for writing. */
export async function openStateSession(
  directory: string,
  project: string,
  environment: string | undefined,
  command: string,
  options: { lockTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<StateSession & { staleLockFrom?: LockOwner }> {
  const path = statePath(directory, project, environment);
  await mkdir(join(directory, '.mlscale', 'state'), { recursive: true });
  const staleLockFrom = await acquireLock(`${path}.lock`, command, options);
  const document = await readState(directory, project, environment);
  // Writes are chained: parallel operations record their steps one after another, never interleaved.
  let chain: Promise<void> = Promise.resolve();
  const write = () => {
    chain = chain
      .catch(() => undefined)
      .then(async () => {
        document.serial += 1;
        document.updatedAt = new Date().toISOString();
        const temporary = `${path}.${process.pid}.tmp`;
        await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`, 'utf8');
        await rename(temporary, path);
      });
    return chain;
  };
  const dropInFlight = (kind: ResourceKind, name: string) => {
    document.inFlight = document.inFlight.filter((entry) => !(entry.kind === kind && entry.name === name));
  };
  return {
    document,
    path,
    ...(staleLockFrom ? { staleLockFrom } : {}),
    async begin(operation) {
      dropInFlight(operation.kind, operation.name);
      document.inFlight.push({ ...operation, startedAt: new Date().toISOString(), pid: process.pid });
      await write();
    },
    async applied(resource) {
      dropInFlight(resource.kind, resource.name);
      document.resources[resourceKey(resource.kind, resource.name)] = {
        ...resource,
        spec: redact(resource.spec),
        appliedAt: new Date().toISOString(),
      };
      await write();
    },
    async forget(kind, name) {
      dropInFlight(kind, name);
      delete document.resources[resourceKey(kind, name)];
      await write();
    },
    async settle(kind, name) {
      dropInFlight(kind, name);
      await write();
    },
    async close() {
      await rm(`${path}.lock`, { force: true });
    },
  };
}

async function acquireLock(
  lockPath: string,
  command: string,
  options: { lockTimeoutMs?: number; signal?: AbortSignal },
): Promise<LockOwner | undefined> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  const deadline = Date.now() + (options.lockTimeoutMs ?? 0);
  let stale: LockOwner | undefined;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      return stale;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLockOwner(lockPath);
    if (holder && holder.host === owner.host && !processAlive(holder.pid)) {
      // A killed apply left its lock; its in-flight operations are in the state and are resumed.
      stale = holder;
      await rm(lockPath, { force: true });
      continue;
    }
    // Like Terraform's -lock-timeout: wait for the holder to finish, up to the deadline.
    if (Date.now() < deadline) {
      await sleep(Math.min(500, Math.max(1, deadline - Date.now())), options.signal);
      continue;
    }
    throw new MlscaleError({
      code: 'Conflict',
      message: holder
        ? `State is locked by '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.since}). Wait for it to finish (or pass --lock-timeout), or remove ${lockPath} if that process is gone.`
        : `State is locked (${lockPath}). Remove the file if no mlscale command is running.`,
    });
  }
}

async function readLockOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(lockPath, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
