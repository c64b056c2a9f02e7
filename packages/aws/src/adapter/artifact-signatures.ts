import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MlscaleError, type ModelSignature, modelSignatureSchema } from '@mlscale/core';
import { readOnnxSignature } from '@mlscale/core/onnx';
import { isLocalPath, isS3Uri, listFiles, localPath } from './artifact-locations.js';
import type { AwsCaller } from './aws-clients.js';
import type { ResolvedSageMakerSettings } from './sagemaker-settings.js';

/**
 * The most bytes read to learn a model's signature: an ONNX file is decoded whole, so a larger one
 * (weights inline) is not read, and its signature is unknown.
 */
export const signatureReadLimitBytes = 256 * 1024 * 1024;

/** The file written beside each `model.tar.gz` the adapter uploads, with the model's signature. */
export const signatureFileName = 'signature.json';

/** Only the inputs and outputs: what callers depend on (not the opset or producer). */
function signatureOnly(signature: ModelSignature): ModelSignature {
  return { inputs: signature.inputs, outputs: signature.outputs };
}

/**
 * The ONNX file among an artifact's files: the only `.onnx` one (external weights may lie beside it);
 * undefined when there is none, or several.
 */
export function onnxFileOf(files: readonly string[]): string | undefined {
  const candidates = files.filter((file) => file.toLowerCase().endsWith('.onnx'));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/**
 * The signature of a local artifact's ONNX file (see `onnxFileOf`), `base` the folder its `files` are
 * relative to; undefined when it has none, it is too large to read, or it is not an ONNX model.
 */
export async function localArtifactSignature(
  base: string,
  files: readonly string[],
): Promise<ModelSignature | undefined> {
  const file = onnxFileOf(files);
  if (!file) return undefined;
  const path = join(base, file);
  if ((await stat(path)).size > signatureReadLimitBytes) return undefined;
  return decodeOrUndefined(await readFile(path), path);
}

function decodeOrUndefined(bytes: Uint8Array, source: string): ModelSignature | undefined {
  try {
    return signatureOnly(readOnnxSignature(bytes, source));
  } catch (error) {
    // Not ONNX: the signature is unknown here; serving the model is what will tell.
    if (MlscaleError.hasCode(error, 'InvalidSpec')) return undefined;
    throw error;
  }
}

/** The JSON of `signatureFileName`. */
export function signatureFileBody(signature: ModelSignature): Buffer {
  return Buffer.from(JSON.stringify(signatureOnly(signature)));
}

/** `s3://bucket/key` as its parts; undefined for anything else (a prefix, another scheme). */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  return match && !url.endsWith('/') ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/** The bytes of an S3 object, or undefined when it is absent, unreadable to these credentials, or above `limit`. */
async function readObject(
  aws: AwsCaller,
  bucket: string,
  key: string,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<Buffer | undefined> {
  let object: Awaited<ReturnType<typeof getObject>> | undefined;
  try {
    object = await getObject(aws, bucket, key, signal);
  } catch (error) {
    if (MlscaleError.hasCode(error, 'Unauthorized')) return undefined;
    throw error;
  }
  const body = object?.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (!object || !body) return undefined;
  if ((object.ContentLength ?? 0) > limit) {
    body.destroy?.();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function getObject(aws: AwsCaller, bucket: string, key: string, signal: AbortSignal | undefined) {
  return aws.find(
    's3',
    'GetObject',
    ({ module, client }, abortSignal) =>
      client.send(new module.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
    signal,
  );
}

/** Where the adapter puts what it uploads (`artifactBucket`, `artifactPrefix`). */
export interface UploadLayout {
  bucket: string | undefined;
  prefix: string;
}

export function uploadLayout(settings: ResolvedSageMakerSettings): UploadLayout {
  return { bucket: settings.artifactBucket, prefix: settings.artifactPrefix };
}

/** Whether `key` is a `model.tar.gz` the adapter uploaded (`PREFIX/models/SHA256/model.tar.gz`). */
function isUploadedArchive(layout: UploadLayout, bucket: string, key: string): boolean {
  if (bucket !== layout.bucket || !key.startsWith(`${layout.prefix}/models/`)) return false;
  return /^[0-9a-f]{64}\/model\.tar\.gz$/.test(key.slice(`${layout.prefix}/models/`.length));
}

/**
 * The signature of the model at an S3 URL: an `.onnx` object read (up to `signatureReadLimitBytes`),
 * or, for a `model.tar.gz` the adapter uploaded, the signature file written beside it. Undefined when
 * it cannot tell: an archive it did not make, an object it cannot read, bytes that are not ONNX.
 */
export async function s3ArtifactSignature(
  aws: AwsCaller,
  layout: UploadLayout,
  url: string,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const location = parseS3Url(url);
  if (!location) return undefined;
  const { bucket, key } = location;
  if (key.toLowerCase().endsWith('.onnx')) {
    const bytes = await readObject(aws, bucket, key, signatureReadLimitBytes, signal);
    return bytes ? decodeOrUndefined(bytes, url) : undefined;
  }
  if (!isUploadedArchive(layout, bucket, key)) return undefined;
  const sidecarKey = `${key.slice(0, -'model.tar.gz'.length)}${signatureFileName}`;
  const body = await readObject(aws, bucket, sidecarKey, 1024 * 1024, signal);
  if (!body) return undefined;
  try {
    const parsed = modelSignatureSchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The signature of a model artifact by URI: a local ONNX file (or a folder holding one), or an S3
 * object as `s3ArtifactSignature` reads it; undefined for anything else (another scheme, a tar.gz).
 */
export async function artifactSignature(
  aws: AwsCaller,
  layout: UploadLayout,
  uri: string,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  if (isS3Uri(uri)) return s3ArtifactSignature(aws, layout, uri, signal);
  if (!isLocalPath(uri)) return undefined;
  const { base, files } = await listFiles(localPath(uri));
  return localArtifactSignature(base, files);
}
