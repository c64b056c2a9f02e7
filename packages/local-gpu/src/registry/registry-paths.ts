import { join } from 'node:path';

/** Where the registry keeps its files under `<root>/registry/`. */
export interface RegistryPaths {
  directory: string;
  /** Content-addressed artifacts: `blobs/sha256/<hash>` (a file, or a folder for folder artifacts). */
  blobs: string;
  /** Artifacts being copied in, before they are hashed and renamed into `blobs`. */
  incoming: string;
  /** `models/<name>/<version>.json`: one metadata file per version. */
  models: string;
}

export function registryPaths(root: string): RegistryPaths {
  const directory = join(root, 'registry');
  return {
    directory,
    blobs: join(directory, 'blobs', 'sha256'),
    incoming: join(directory, 'blobs', 'incoming'),
    models: join(directory, 'models'),
  };
}

/** A blob's path by its hash. */
export function blobPath(paths: RegistryPaths, sha256: string): string {
  return join(paths.blobs, sha256);
}
