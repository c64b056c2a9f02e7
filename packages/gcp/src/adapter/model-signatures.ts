import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { protos } from '@google-cloud/aiplatform';
import { MlscaleError, type ModelReference, type ModelSignature } from '@mlscale/core';
import { callVertex, singleAttempt } from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { observeDeployment } from './deployment-observation.js';
import { targetsOf } from './deployment-targets.js';
import { type RegistryModelReference, resolveRegistryVersion } from './model-resolver.js';
import { readVersionRecord } from './version-record.js';

type IModel = protos.google.cloud.aiplatform.v1.IModel;

/**
 * The most bytes read from an artifact to find its signature: an ONNX file holds its weights beside its
 * graph, so a larger one is not read (its signature is then unknown, unless recorded at upload).
 */
export const maximumArtifactBytes = 256 * 1024 * 1024;

/** Only the inputs and outputs (readOnnxSignature adds the opset and producer). */
function signatureOnly(description: ModelSignature): ModelSignature {
  return { inputs: description.inputs, outputs: description.outputs };
}

/** Reads `bytes` as ONNX; `undefined` when they are not an ONNX model (the signature is then unknown). */
async function parseOnnx(bytes: Uint8Array, source: string): Promise<ModelSignature | undefined> {
  const { readOnnxSignature } = await import('@mlscale/core/onnx');
  try {
    return signatureOnly(readOnnxSignature(bytes, source));
  } catch (error) {
    if (MlscaleError.hasCode(error, 'InvalidSpec')) return undefined;
    throw error;
  }
}

/** The ONNX file a local artifact is: the file itself, or the one `.onnx` file of a folder. */
async function localOnnxFile(path: string): Promise<{ path: string; size: number } | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  if (info.isFile()) return { path, size: info.size };
  if (!info.isDirectory()) return undefined;
  const entries = await readdir(path, { withFileTypes: true });
  const onnxFiles = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.onnx'));
  if (onnxFiles.length !== 1) return undefined;
  const file = join(path, onnxFiles[0]!.name);
  return { path: file, size: (await stat(file)).size };
}

/** A `gs://bucket/path/model.onnx` object's bytes, or `undefined` when it is missing or too large. */
async function storageObjectBytes(
  context: AdapterContext,
  uri: string,
  signal: AbortSignal | undefined,
): Promise<Uint8Array | undefined> {
  const match = /^gs:\/\/([^/]+)\/(.+\.onnx)$/.exec(uri);
  if (!match) return undefined;
  const [, bucketName, objectName] = match;
  const { storage } = await clientsOf(context);
  const object = storage.bucket(bucketName!).file(objectName!);
  const metadata = await callVertex(`Cloud Storage metadata of ${uri}`, signal, async () => {
    try {
      return (await object.getMetadata())[0];
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  });
  if (!metadata || Number(metadata.size) > maximumArtifactBytes) return undefined;
  const [bytes] = await callVertex(`Cloud Storage download of ${uri}`, signal, () => object.download());
  return bytes;
}

/**
 * The signature of an artifact by location: a local ONNX file (or a folder with one), or a `gs://`
 * object ending in `.onnx`. `undefined` when it cannot tell: another scheme, a missing or oversized
 * file, bytes that are not ONNX.
 */
export async function signatureOfArtifact(
  context: AdapterContext,
  uri: string,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  if (uri.startsWith('gs://')) {
    const bytes = await storageObjectBytes(context, uri, signal);
    return bytes ? parseOnnx(bytes, uri) : undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) return undefined;
  const file = await localOnnxFile(uri.startsWith('file://') ? fileURLToPath(uri) : uri);
  if (!file || file.size > maximumArtifactBytes) return undefined;
  return parseOnnx(await readFile(file.path), uri);
}

/**
 * The signature of a Vertex model version: the one recorded in its version description when mlscale
 * uploaded it, else read from its artifact in Cloud Storage (the file the container is told to load).
 */
export async function signatureOfVersion(
  context: AdapterContext,
  model: IModel,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const record = readVersionRecord(model);
  if (record?.signature) return record.signature;
  const fileName = model.containerSpec?.env?.find(
    (variable) => variable.name === 'MLSCALE_MODEL_FILE',
  )?.value;
  const uri = record?.uri ?? (model.artifactUri && fileName ? `${model.artifactUri}${fileName}` : undefined);
  return uri?.startsWith('gs://') ? signatureOfArtifact(context, uri, signal) : undefined;
}

async function getModel(context: AdapterContext, name: string, signal: AbortSignal | undefined) {
  const clients = await clientsOf(context);
  const [model] = await callVertex('GetModel', signal, () =>
    clients.models.getModel({ name }, singleAttempt),
  );
  return model;
}

/** The signature of a registered version (`NotFound` when the registry has no such version). */
async function signatureOfRegistryReference(
  context: AdapterContext,
  reference: RegistryModelReference,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const { versionName } = await resolveRegistryVersion(context, reference, 'model', signal);
  return signatureOfVersion(context, await getModel(context, versionName, signal), signal);
}

/** The signature of a model a spec names: an artifact by location, or a registered version. */
export function signatureOfReference(
  context: AdapterContext,
  reference: ModelReference,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  return 'name' in reference
    ? signatureOfRegistryReference(context, reference, signal)
    : signatureOfArtifact(context, reference.uri, signal);
}

/**
 * The signature of what a deployment serves now: of the model with the largest share in its serving
 * spec, read from the version the endpoint has deployed for it (what was recorded when it was uploaded),
 * else from the reference as the spec gives it. `undefined` when nothing serves yet.
 */
export async function signatureOfServing(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const observation = await observeDeployment(context, name, signal);
  const serving = observation?.record.serving;
  if (!observation || !serving) return undefined;
  const [heaviest] = targetsOf(context, serving).sort((a, b) => b.weight - a.weight);
  if (!heaviest) return undefined;
  const deployed = observation.endpoint.deployedModels?.find(
    (candidate) => candidate.id === heaviest.deployedModelId,
  );
  if (deployed?.model) {
    const version = deployed.modelVersionId ? `${deployed.model}@${deployed.modelVersionId}` : deployed.model;
    try {
      const signature = await signatureOfVersion(context, await getModel(context, version, signal), signal);
      if (signature) return signature;
    } catch (error) {
      if (!MlscaleError.hasCode(error, 'NotFound')) throw error;
    }
  }
  try {
    return await signatureOfReference(context, heaviest.source.reference, signal);
  } catch (error) {
    // The registered model it served is gone: what it takes can no longer be told.
    if (MlscaleError.hasCode(error, 'NotFound')) return undefined;
    throw error;
  }
}
