import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, MlscaleError, type ModelReference } from '@mlscale/core';
import { readModelSignature } from '../onnx/model-signature.js';
import type { LoadedModel } from './model-version.js';

/**
 * Resolves a registry reference (`{ name, version }`) to a local file, or to the file and the bytes of
 * it that were verified (then those bytes are served, not a second read). The local registry attaches
 * one; without it, registry references are refused with a clear message.
 */
export type RegistryModelResolver = (reference: {
  name: string;
  version: number | 'latest';
}) => Promise<string | { path: string; bytes: Uint8Array }>;

/**
 * Loads a deployment's model: a local path or `file://` URI (a file, or a folder holding one `.onnx`
 * file, as `/opt/ml/model` does), or a registry reference through `resolveRegistryModel`. The bytes are
 * read and checked to be ONNX before any replica starts.
 */
export async function loadModel(
  reference: ModelReference,
  options: { baseDirectory: string; resolveRegistryModel?: RegistryModelResolver | undefined },
): Promise<LoadedModel> {
  let file: string;
  let bytes: Uint8Array;
  const resolved = 'uri' in reference ? undefined : await resolveRegistry(reference, options);
  if (resolved && typeof resolved !== 'string') {
    file = resolved.path;
    bytes = resolved.bytes;
  } else {
    file = resolved ?? (await resolveModelFile(reference, options));
    bytes = new Uint8Array(await readFile(file));
  }
  return {
    reference: canonicalJson(reference),
    path: file,
    bytes,
    signature: readModelSignature(bytes, file),
  };
}

/**
 * The file a model reference names, as a deploy would load it: a local path or `file://` URI (a file,
 * or the one `.onnx` file of a folder), or a registry reference through `resolveRegistryModel`.
 */
export async function resolveModelFile(
  reference: ModelReference,
  options: { baseDirectory: string; resolveRegistryModel?: RegistryModelResolver | undefined },
): Promise<string> {
  if ('uri' in reference) return findModelFile(localPath(reference.uri, options.baseDirectory));
  const resolved = await resolveRegistry(reference, options);
  return findModelFile(typeof resolved === 'string' ? resolved : resolved.path);
}

function resolveRegistry(
  reference: Exclude<ModelReference, { uri: string }>,
  options: { resolveRegistryModel?: RegistryModelResolver | undefined },
): ReturnType<RegistryModelResolver> {
  if (!options.resolveRegistryModel) throw noRegistry(reference);
  return options.resolveRegistryModel(reference);
}

/**
 * Checks a model reference without reading the model: a `uri` must name a local file or a folder with
 * one `.onnx` file; a registry reference needs a registry. What only loading can tell (that the bytes are
 * ONNX, that the registry has the version) is found when the server starts.
 */
export async function checkModelReference(
  reference: ModelReference,
  options: { baseDirectory: string; resolveRegistryModel?: RegistryModelResolver | undefined },
): Promise<void> {
  if ('uri' in reference) {
    await findModelFile(localPath(reference.uri, options.baseDirectory));
    return;
  }
  if (!options.resolveRegistryModel) throw noRegistry(reference);
}

function noRegistry(reference: { name: string; version: number | 'latest' }): MlscaleError {
  return new MlscaleError({
    code: 'Unsupported',
    provider: 'local',
    message: `Model '${reference.name}' (version ${reference.version}) is a registry reference, but this localGpu() backend has no model registry attached; deploy a file with { uri: 'path/to/model.onnx' } instead.`,
  });
}

function localPath(uri: string, baseDirectory: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1];
  if (scheme) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'local',
      message: `model.uri: the local backend reads local files; got a ${scheme}:// URI. Expected a path or file:// URI (download the artifact first).`,
      issues: [{ path: 'model.uri', message: `expected a local path or file:// URI, got ${scheme}://` }],
    });
  }
  return resolve(baseDirectory, uri);
}

/** The file itself, or the one `.onnx` file in a folder (model.onnx preferred). */
export async function findModelFile(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw notFound(path, 'no such file or folder');
  if (info.isFile()) return path;
  if (!info.isDirectory()) throw notFound(path, 'not a file or folder');
  const entries = (await readdir(path)).filter((entry) => entry.endsWith('.onnx')).sort();
  if (entries.includes('model.onnx')) return join(path, 'model.onnx');
  if (entries.length === 1) return join(path, entries[0]!);
  throw notFound(
    path,
    entries.length === 0
      ? 'the folder holds no .onnx file'
      : `the folder holds several .onnx files (${entries.join(', ')}) and no model.onnx`,
  );
}

function notFound(path: string, detail: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    provider: 'local',
    message: `Model path ${path}: ${detail}; expected an .onnx file or a folder with one.`,
    issues: [{ path: 'model', message: `${detail} (${basename(path)})` }],
  });
}
