import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlscaleError, redact } from '@mlscale/core';
import {
  emptyState,
  type InFlightOperation,
  type ResourceKind,
  resourceKey,
  type StateDocument,
  type StateResource,
  stateDocumentSchema,
} from './state-document.js';
import { acquireStateLock, type LockOwner } from './state-lock.js';

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
  let problem: string;
  try {
    const parsed = stateDocumentSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (parsed.success) return parsed.data as StateDocument;
    problem = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('; ');
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  throw new MlscaleError({
    code: 'Conflict',
    message: `State file ${path} is damaged (${problem}). mlscale left it as it is: fix it by hand, restore it from a backup, or move it aside to start from an empty state (plan then reads each resource from its backend).`,
  });
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
  const lockPath = `${path}.lock`;
  const staleLockFrom = await acquireStateLock(lockPath, command, options);
  let document: StateDocument;
  try {
    document = await readState(directory, project, environment);
  } catch (error) {
    // A state that cannot be read is left as it is, and so is nobody's lock.
    await rm(lockPath, { force: true });
    throw error;
  }
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
