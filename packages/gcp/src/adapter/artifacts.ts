import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Storage } from '@google-cloud/storage';
import { MlscaleError } from '@mlscale/core';
import { callVertex } from './calls.js';
import { invalidSpec, provider } from './errors.js';
import type { VertexSettings } from './settings.js';

/** A model artifact where Vertex can read it. */
export interface StagedArtifact {
  /** The `gs://` folder for Model.artifact_uri (Vertex takes a folder, copied to AIP_STORAGE_URI). */
  artifactUri: string;
  /** The model file inside that folder, when the artifact is one file. */
  fileName?: string;
  /** sha256 of the bytes (of a folder: of its sorted relative paths and contents); absent for gs:// URIs. */
  sha256?: string;
  sizeBytes?: number;
  /** Whether anything was uploaded (false when the same content was there already). */
  uploaded: boolean;
}

interface LocalFile {
  path: string;
  /** Path inside the artifact, with `/` separators. */
  relativePath: string;
  size: number;
}

/**
 * Makes an artifact readable by Vertex: `gs://` URIs are used as they are; a local file or folder
 * (`/path`, `./path`, `file://`) is uploaded to the configured bucket under a content-hashed prefix, so
 * unchanged content is not uploaded twice and a changed model never overwrites a deployed one.
 */
export async function stageArtifact(
  uri: string,
  field: string,
  settings: VertexSettings,
  storage: () => Promise<Storage>,
  signal?: AbortSignal,
): Promise<StagedArtifact> {
  if (uri.startsWith('gs://')) {
    const looksLikeFile = /\.[A-Za-z0-9]{1,8}$/.test(uri);
    return looksLikeFile
      ? { artifactUri: `${dirname(uri)}/`, fileName: basename(uri), uploaded: false }
      : { artifactUri: uri.endsWith('/') ? uri : `${uri}/`, uploaded: false };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw invalidSpec(
      field,
      `expected a gs:// URI or a local path: Vertex AI reads models from Cloud Storage, got "${uri.split('://')[0]}://"`,
    );
  }
  if (!settings.bucket) {
    throw invalidSpec(
      field,
      'a local model needs a Cloud Storage bucket to upload to: set vertex({ bucket }) or MLSCALE_GCS_BUCKET',
    );
  }
  const path = uri.startsWith('file://') ? fileURLToPath(uri) : uri;
  const files = await listFiles(path, field);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for (const file of files) {
    hash.update(`${file.relativePath}\0`);
    hash.update(await readFile(file.path));
    sizeBytes += file.size;
  }
  const sha256 = hash.digest('hex');
  const { bucketName, prefix } = splitBucket(settings.bucket);
  const folder = `${prefix}mlscale/artifacts/${sha256}/`;
  const client = await storage();
  const bucket = client.bucket(bucketName);
  let uploaded = false;
  for (const file of files) {
    const object = bucket.file(`${folder}${file.relativePath}`);
    const existing = await callVertex(
      `Cloud Storage metadata of gs://${bucketName}/${folder}${file.relativePath}`,
      signal,
      async () => {
        try {
          const [metadata] = await object.getMetadata();
          return metadata;
        } catch (error) {
          if ((error as { code?: number }).code === 404) return undefined;
          throw error;
        }
      },
    );
    if (existing && Number(existing.size) === file.size) continue;
    await callVertex(
      `Cloud Storage upload to gs://${bucketName}/${folder}${file.relativePath}`,
      signal,
      async () => {
        await bucket.upload(file.path, {
          destination: `${folder}${file.relativePath}`,
          resumable: false,
          metadata: { metadata: { 'mlscale-sha256': sha256 } },
        });
      },
    );
    uploaded = true;
  }
  const single = files.length === 1 && files[0]!.relativePath === basename(path);
  return {
    artifactUri: `gs://${bucketName}/${folder}`,
    ...(single ? { fileName: files[0]!.relativePath } : {}),
    sha256,
    sizeBytes,
    uploaded,
  };
}

/** `bucket` or `gs://bucket/prefix` → the bucket name and a prefix ending in `/` (or empty). */
export function splitBucket(bucket: string): { bucketName: string; prefix: string } {
  const trimmed = bucket.replace(/^gs:\/\//, '');
  const [bucketName, ...rest] = trimmed.split('/');
  const prefix = rest.filter(Boolean).join('/');
  return { bucketName: bucketName!, prefix: prefix ? `${prefix}/` : '' };
}

async function listFiles(path: string, field: string): Promise<LocalFile[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Invalid spec for Vertex AI:\n  - ${field}: no file or folder at "${path}"`,
      issues: [{ path: field, message: `no file or folder at "${path}"` }],
    });
  }
  if (info.isFile()) return [{ path, relativePath: basename(path), size: info.size }];
  const files: LocalFile[] = [];
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    files.push({
      path: full,
      relativePath: relative(path, full).split(sep).join('/'),
      size: (await stat(full)).size,
    });
  }
  if (files.length === 0) throw invalidSpec(field, `the folder "${path}" holds no files`);
  return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
}
