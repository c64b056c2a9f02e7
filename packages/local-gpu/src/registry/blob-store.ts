import { randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { processIsAlive } from '../runtime/process-is-alive.js';
import { hashArtifact, listFiles } from './artifact-hash.js';
import { blobPath, type RegistryPaths } from './registry-paths.js';

/** A stored artifact. */
export interface StoredBlob {
  sha256: string;
  sizeBytes: number;
  path: string;
  isDirectory: boolean;
}

/**
 * Copies a file or folder into the content-addressed store. The copy is hashed (not the source, which
 * could change meanwhile) and renamed to `sha256/<hash>`; an identical artifact already there is kept
 * and the copy dropped (a damaged one is replaced). Stored files are made read-only.
 */
export async function storeBlob(paths: RegistryPaths, source: string): Promise<StoredBlob> {
  await mkdir(paths.incoming, { recursive: true });
  await mkdir(paths.blobs, { recursive: true });
  await removeAbandonedCopies(paths.incoming);
  const isDirectory = (await stat(source)).isDirectory();
  // The writer's pid in the name tells a copy in progress from one a killed writer left.
  const incoming = join(paths.incoming, `${process.pid}-${randomUUID()}`);
  try {
    await cp(source, incoming, { recursive: true, dereference: true });
    const { sha256, sizeBytes } = await hashArtifact(incoming);
    const target = blobPath(paths, sha256);
    const existing = await stat(target).catch(() => undefined);
    // A damaged copy of the same content is replaced, so registering again repairs older versions too.
    const intact = existing ? (await currentBlobHash(target)) === sha256 : false;
    if (existing && !intact) await rm(target, { recursive: true, force: true });
    if (!intact) {
      await makeReadOnly(incoming, isDirectory);
      try {
        await rename(incoming, target);
      } catch (error) {
        // Another writer stored the same content first: theirs is identical.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    }
    return { sha256, sizeBytes, path: target, isDirectory };
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }
}

/** Copies of unnamed writers older than this are taken as abandoned. */
const abandonedAfterMs = 60 * 60 * 1000;

/**
 * Removes what registrations killed mid-copy left in `incoming`: copies named for a process that no
 * longer runs (and unnamed ones over an hour old). A live writer's copies are left alone.
 */
export async function removeAbandonedCopies(incoming: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(incoming).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)-/.exec(entry)?.[1]);
    const path = join(incoming, entry);
    const abandoned = Number.isInteger(pid)
      ? !processIsAlive(pid)
      : Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now()) > abandonedAfterMs;
    if (!abandoned) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

async function makeReadOnly(path: string, isDirectory: boolean): Promise<void> {
  if (!isDirectory) return chmod(path, 0o444);
  for (const file of await listFiles(path)) await chmod(join(path, ...file.split('/')), 0o444);
}

/** The blob's hash as it is now, or `undefined` when it is gone. */
export async function currentBlobHash(path: string): Promise<string | undefined> {
  if (!(await stat(path).catch(() => undefined))) return undefined;
  return (await hashArtifact(path)).sha256;
}
