import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile, listFiles } from './artifact-hash.js';
import type { StoredVersion } from './version-store.js';

/** A version's model file, and the bytes of it that matched the registered sha256. */
export interface VerifiedModel {
  path: string;
  bytes: Uint8Array;
}

/**
 * Reads a version's model file once and checks those very bytes against the registered sha256 (for a
 * folder artifact, the folder's hash with the model file's line taken from the bytes held), so what is
 * served is what was verified, even if the file changes right after. Returns why it does not match
 * instead, or undefined when the artifact is gone.
 */
export async function readVerifiedModel(stored: StoredVersion): Promise<VerifiedModel | string | undefined> {
  const path = stored.modelFile ? join(stored.uri, ...stored.modelFile.split('/')) : stored.uri;
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!bytes) return undefined;
  const fileHash = createHash('sha256').update(bytes).digest('hex');
  let actual = fileHash;
  if (stored.modelFile) {
    const folder = createHash('sha256');
    for (const file of await listFiles(stored.uri)) {
      const hash =
        file === stored.modelFile ? fileHash : await hashFile(join(stored.uri, ...file.split('/')));
      folder.update(`${file}\0${hash}\n`);
    }
    actual = folder.digest('hex');
  }
  if (actual !== stored.sha256) return `the sha256 of ${stored.uri} is now ${actual}`;
  return { path, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
