import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** sha256 of a file's bytes, streamed. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file under a folder, as sorted `/`-separated relative paths. */
export async function listFiles(directory: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(relative(directory, path).split(sep).join('/'));
    }
  };
  await walk(directory);
  return files.sort();
}

/**
 * sha256 of an artifact: of a file, its bytes; of a folder, the lines `<relative path>\0<file sha256>\n`
 * over its files in sorted order, so renaming, adding or changing any file changes it.
 */
export async function hashArtifact(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const info = await stat(path);
  if (!info.isDirectory()) return { sha256: await hashFile(path), sizeBytes: info.size };
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for (const file of await listFiles(path)) {
    const absolute = join(path, ...file.split('/'));
    sizeBytes += (await stat(absolute)).size;
    hash.update(`${file}\0${await hashFile(absolute)}\n`);
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}
