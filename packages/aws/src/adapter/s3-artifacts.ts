import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import { isLocalPath, isS3Uri, listFiles, localPath } from './artifact-locations.js';
import { localArtifactSignature, signatureFileBody, signatureFileName } from './artifact-signatures.js';
import type { AwsCaller } from './aws-clients.js';
import type { ResolvedSageMakerSettings } from './sagemaker-settings.js';

/** sha256 over the sorted file names and their bytes: equal content, equal hash, whatever the timestamps. */
async function contentHash(base: string, files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    await new Promise<void>((resolve, reject) => {
      createReadStream(join(base, file))
        .on('data', (chunk) => hash.update(chunk))
        .on('end', () => resolve())
        .on('error', reject);
    });
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Uploads local model files and training inputs to S3, keyed by content hash. */
export interface ArtifactStore {
  /**
   * The model as SageMaker wants it: a `model.tar.gz` in S3. Local files and folders are packed and
   * uploaded once (an unchanged artifact is found by its hash and not uploaded again); a local
   * `.tar.gz` is uploaded as is; `s3://` URIs pass through.
   */
  modelDataUrl(uri: string, signal?: AbortSignal): Promise<string>;
  /** A training channel's S3 prefix: local files and folders are uploaded under a content-hash prefix. */
  inputPrefix(uri: string, signal?: AbortSignal): Promise<string>;
  /**
   * A model for the registry: uploaded like `modelDataUrl`, with the sha256 of its bytes (of a folder:
   * of its sorted file names and contents) and its size. An `s3://` object is read once to hash it.
   */
  modelArtifact(
    uri: string,
    signal?: AbortSignal,
  ): Promise<{ url: string; sha256: string; sizeBytes: number }>;
}

/** sha256 and size of a local artifact: a file's bytes, or a folder's sorted names and contents. */
async function localDigest(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const info = await stat(path);
  const { base, files } = await listFiles(path);
  let sizeBytes = 0;
  for (const file of files) sizeBytes += (await stat(join(base, file))).size;
  if (info.isFile()) {
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      createReadStream(path)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', () => resolve())
        .on('error', reject);
    });
    return { sha256: hash.digest('hex'), sizeBytes };
  }
  return { sha256: await contentHash(base, files), sizeBytes };
}

export function createArtifactStore(settings: ResolvedSageMakerSettings, aws: AwsCaller): ArtifactStore {
  function bucket(what: string): string {
    if (!settings.artifactBucket) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'aws',
        message: `${what} is a local path, so it must be uploaded to S3: set artifactBucket in sagemaker() settings (or MLSCALE_S3_BUCKET), or give an s3:// URI.`,
      });
    }
    return settings.artifactBucket;
  }

  async function exists(bucketName: string, key: string, signal?: AbortSignal): Promise<boolean> {
    const found = await aws.find(
      's3',
      'HeadObject',
      ({ module, client }, abortSignal) =>
        client.send(new module.HeadObjectCommand({ Bucket: bucketName, Key: key }), { abortSignal }),
      signal,
    );
    return found !== undefined;
  }

  async function put(bucketName: string, key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    await aws.call(
      's3',
      'PutObject',
      ({ module, client }, abortSignal) =>
        client.send(new module.PutObjectCommand({ Bucket: bucketName, Key: key, Body: body }), {
          abortSignal,
        }),
      signal,
    );
  }

  const store: ArtifactStore = {
    async modelArtifact(uri, signal) {
      if (isS3Uri(uri)) {
        const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
        if (!match || uri.endsWith('/')) {
          throw new MlscaleError({
            code: 'InvalidSpec',
            provider: 'aws',
            message: `path "${uri}": expected an s3:// URI of one object (a model.tar.gz), or a local file or folder.`,
            issues: [{ path: 'path', message: 'expected an s3:// object URI or a local path' }],
          });
        }
        const object = await aws.call(
          's3',
          'GetObject',
          ({ module, client }, abortSignal) =>
            client.send(new module.GetObjectCommand({ Bucket: match[1], Key: match[2] }), { abortSignal }),
          signal,
        );
        const hash = createHash('sha256');
        let sizeBytes = 0;
        for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          sizeBytes += chunk.length;
        }
        return { url: uri, sha256: hash.digest('hex'), sizeBytes };
      }
      const url = await store.modelDataUrl(uri, signal);
      return { url, ...(await localDigest(localPath(uri))) };
    },

    async modelDataUrl(uri, signal) {
      if (isS3Uri(uri)) return uri;
      if (!isLocalPath(uri)) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message: `model.uri "${uri}": SageMaker reads models from S3; expected an s3:// URI or a local path to upload.`,
        });
      }
      const bucketName = bucket('model.uri');
      const path = localPath(uri);
      const { base, files } = await listFiles(path);
      const hash = await contentHash(base, files);
      const key = `${settings.artifactPrefix}/models/${hash}/model.tar.gz`;
      if (await exists(bucketName, key, signal)) return `s3://${bucketName}/${key}`;
      const singleArchive = files.length === 1 && files[0]!.endsWith('.tar.gz');
      // The model's signature beside the archive, first: an archive found uploaded has its signature
      // beside it already (the signature gate reads it back: see artifact-signatures.ts).
      const signature = singleArchive ? undefined : await localArtifactSignature(base, files);
      if (signature) {
        const sidecar = `${settings.artifactPrefix}/models/${hash}/${signatureFileName}`;
        await put(bucketName, sidecar, signatureFileBody(signature), signal);
      }
      if (singleArchive) {
        await put(bucketName, key, await readFile(join(base, files[0]!)), signal);
        return `s3://${bucketName}/${key}`;
      }
      const { create } = await import('tar');
      const folder = await mkdtemp(join(tmpdir(), 'mlscale-model-'));
      try {
        const archive = join(folder, 'model.tar.gz');
        // portable: no owner or mtime-dependent headers beyond what tar needs; files at the archive root, as /opt/ml/model expects.
        await create({ gzip: true, portable: true, cwd: base, file: archive }, files);
        await put(bucketName, key, await readFile(archive), signal);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
      return `s3://${bucketName}/${key}`;
    },

    async inputPrefix(uri, signal) {
      if (isS3Uri(uri)) return uri;
      if (!isLocalPath(uri)) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message: `input "${uri}": SageMaker channels read from S3; expected an s3:// URI or a local path to upload.`,
        });
      }
      const bucketName = bucket('A training input');
      const { base, files } = await listFiles(localPath(uri));
      const hash = await contentHash(base, files);
      const prefix = `${settings.artifactPrefix}/inputs/${hash}/`;
      // The marker is written last, so a half-finished upload is redone rather than trusted.
      const marker = `${settings.artifactPrefix}/inputs/${hash}.complete`;
      if (!(await exists(bucketName, marker, signal))) {
        for (const file of files)
          await put(bucketName, `${prefix}${file}`, await readFile(join(base, file)), signal);
        await put(bucketName, marker, Buffer.from(JSON.stringify({ files: files.length })), signal);
      }
      return `s3://${bucketName}/${prefix}`;
    },
  };
  return store;
}
