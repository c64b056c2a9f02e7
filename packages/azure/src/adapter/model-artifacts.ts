import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlscaleError, redactText } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { provider, toMlscaleError } from './to-mlscale-error.js';

/** A local file or folder, hashed. */
export interface HashedArtifact {
  /** The absolute path. */
  path: string;
  isFolder: boolean;
  /** sha256 of the bytes; of a folder, of its sorted relative paths and their contents. */
  sha256: string;
  sizeBytes: number;
  files: { absolute: string; relative: string }[];
}

/** An artifact in the workspace datastore. */
export interface UploadedArtifact extends HashedArtifact {
  /** `azureml://datastores/{datastore}/paths/{path}` */
  uri: string;
  /** True when the same content was already there and nothing was sent. */
  skipped: boolean;
}

/** A path on this machine (a bare path or `file://`), as opposed to a URI Azure reads itself. */
export function localPathOf(uri: string): string | undefined {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return undefined;
  return uri;
}

/** Rejects URIs Azure ML cannot read (S3, GCS). */
export function assertAzureReadable(uri: string, field: string): void {
  if (/^(s3|gs):\/\//i.test(uri)) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Invalid ${field}: Azure ML cannot read ${uri.split('://')[0]}:// URIs; give a local path, an azureml:// URI or an https:// URL.`,
      issues: [{ path: field, message: 'expected a local path, azureml:// or https://' }],
    });
  }
}

async function sha256File(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** Hashes a local file or folder (folders: sorted relative paths with `/`, each followed by its bytes). */
export async function hashArtifact(path: string, field: string): Promise<HashedArtifact> {
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Invalid ${field}: no file or folder at ${path}.`,
      issues: [{ path: field, message: 'expected an existing file or folder' }],
    });
  }
  const hash = createHash('sha256');
  if (!info.isDirectory()) {
    await sha256File(path, hash);
    return {
      path,
      isFolder: false,
      sha256: hash.digest('hex'),
      sizeBytes: info.size,
      files: [{ absolute: path, relative: basename(path) }],
    };
  }
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => {
      // `parentPath` arrived in Node 20.12; 20.11 calls it `path`.
      const parent =
        (entry as { parentPath?: string; path?: string }).parentPath ??
        (entry as { path?: string }).path ??
        path;
      const absolute = join(parent, entry.name);
      return { absolute, relative: relative(path, absolute).split(sep).join('/') };
    })
    .sort((left, right) => (left.relative < right.relative ? -1 : left.relative > right.relative ? 1 : 0));
  let sizeBytes = 0;
  for (const file of files) {
    hash.update(`${file.relative}\n`);
    await sha256File(file.absolute, hash);
    sizeBytes += (await stat(file.absolute)).size;
  }
  return { path, isFolder: true, sha256: hash.digest('hex'), sizeBytes, files };
}

const completeMarker = '.mlscale-complete';

/**
 * Uploads a hashed artifact to the workspace's blob datastore under a content-addressed path
 * (`mlscale/{kind}/{name}/{sha256}/`), skipping it when a completed upload of the same content is there.
 */
export async function uploadArtifact(
  context: AdapterContext,
  artifact: HashedArtifact,
  kind: 'models' | 'inputs',
  name: string,
  signal: AbortSignal | undefined,
): Promise<UploadedArtifact> {
  const { settings } = context;
  const datastore = await context.call(`Reading datastore '${settings.datastore}'`, (clients) =>
    clients.machineLearning.datastores.get(settings.resourceGroup, settings.workspace, settings.datastore),
  );
  const properties = datastore.properties as {
    datastoreType?: string;
    accountName?: string;
    containerName?: string;
    endpoint?: string;
    protocol?: string;
  };
  if (properties.datastoreType !== 'AzureBlob' || !properties.accountName || !properties.containerName) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Datastore '${settings.datastore}' is not an Azure Blob datastore; set settings.datastore to one that is.`,
    });
  }
  const secrets = await context.call(`Reading datastore '${settings.datastore}' secrets`, (clients) =>
    clients.machineLearning.datastores.listSecrets(
      settings.resourceGroup,
      settings.workspace,
      settings.datastore,
    ),
  );
  const accountKey = (secrets as { key?: string }).key;
  if (!accountKey) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider,
      message: `Datastore '${settings.datastore}' has no account key; mlscale uploads with the account key (identity-based datastores are not supported yet).`,
    });
  }
  const prefix = `mlscale/${kind}/${name}/${artifact.sha256}`;
  const uri = `azureml://datastores/${settings.datastore}/paths/${prefix}/${artifact.isFolder ? '' : basename(artifact.path)}`;
  try {
    const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
    const serviceUrl =
      settings.blobServiceUrl ??
      `${properties.protocol ?? 'https'}://${properties.accountName}.blob.${properties.endpoint ?? 'core.windows.net'}`;
    // One attempt per request, as with the ARM clients: the mlscale client is the one retry layer.
    const service = new BlobServiceClient(
      serviceUrl,
      new StorageSharedKeyCredential(properties.accountName, accountKey),
      { retryOptions: { maxTries: 1 } },
    );
    const container = service.getContainerClient(properties.containerName);
    await container.createIfNotExists({ abortSignal: signal });
    const marker = container.getBlockBlobClient(`${prefix}/${completeMarker}`);
    if (await marker.exists({ abortSignal: signal })) return { ...artifact, uri, skipped: true };
    for (const file of artifact.files) {
      await container.getBlockBlobClient(`${prefix}/${file.relative}`).uploadFile(file.absolute, {
        abortSignal: signal,
        metadata: { mlscalesha256: artifact.sha256 },
      });
    }
    // The marker goes last: an interrupted upload has none and is redone in full.
    await marker.upload('', 0, { abortSignal: signal, metadata: { mlscalesha256: artifact.sha256 } });
    return { ...artifact, uri, skipped: false };
  } catch (error) {
    const mapped = toMlscaleError(error, `Uploading ${artifact.path} to datastore '${settings.datastore}'`);
    throw new MlscaleError({
      code: mapped.code,
      provider,
      retryable: mapped.retryable,
      message: redactText(mapped.message),
      cause: error,
    });
  }
}
