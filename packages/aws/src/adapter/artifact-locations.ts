import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlscaleError } from '@mlscale/core';

/** A URI SageMaker reads directly; anything else with a scheme is not reachable from SageMaker. */
export function isS3Uri(uri: string): boolean {
  return uri.startsWith('s3://');
}

/** Whether `uri` names a local file or folder (a path or `file://`). */
export function isLocalPath(uri: string): boolean {
  return uri.startsWith('file://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri);
}

/** The file system path of a local URI (a path or `file://`). */
export function localPath(uri: string): string {
  return uri.startsWith('file://') ? fileURLToPath(uri) : uri;
}

/** Files under `root` (or `root` itself), as sorted paths relative to the folder that holds them. */
export async function listFiles(root: string): Promise<{ base: string; files: string[] }> {
  const info = await stat(root).catch(() => undefined);
  if (!info) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `Local artifact "${root}" does not exist: expected a file or folder, or an s3:// URI.`,
    });
  }
  if (info.isFile()) return { base: dirname(root), files: [basename(root)] };
  const files: string[] = [];
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.push(relative(root, full).split(sep).join('/'));
    }
  };
  await walk(root);
  if (files.length === 0) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `Local artifact folder "${root}" is empty.`,
    });
  }
  return { base: root, files: files.sort() };
}
