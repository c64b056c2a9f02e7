import { readFile } from 'node:fs/promises';
import { MlscaleError, type ModelReference, type ModelSignature } from '@mlscale/core';
import { readOnnxSignature } from '@mlscale/core/onnx';
import type { DeploymentRecordStore } from './deployment-record-store.js';
import type { DeploymentRuntime } from './deployment-runtime.js';
import { type RegistryModelResolver, resolveModelFile } from './model-loader.js';

/** What resolving a signature needs of the deployments group. */
export interface SignatureSources {
  store: DeploymentRecordStore;
  runtime(name: string): DeploymentRuntime | undefined;
  baseDirectory: string;
  resolveRegistryModel?: RegistryModelResolver | undefined;
}

/**
 * The signature gate's view of a model: for `{ deployment }`, the version that serves now (the loaded
 * model when this process serves it, else the model the record says serves, read from its file); for
 * `{ model }`, the file a deploy would load (a path, a `file://` URI, or a registered version), read
 * once and without starting a session. `undefined` when nothing serves yet, or the serving model's file
 * is gone.
 */
export async function resolveSignature(
  sources: SignatureSources,
  target: { deployment: string } | { model: ModelReference },
  signal?: AbortSignal,
): Promise<ModelSignature | undefined> {
  if ('model' in target) return readReference(sources, target.model);
  const running = sources.runtime(target.deployment)?.signature();
  if (running) return contract(running);
  const stored = await sources.store.read(target.deployment, signal);
  const serving = stored?.record.serving?.model;
  if (!serving) return undefined;
  try {
    return await readReference(sources, serving);
  } catch (error) {
    // The recorded model was moved or removed since it was deployed: the gate cannot tell.
    if (MlscaleError.hasCode(error, 'InvalidSpec') || MlscaleError.hasCode(error, 'NotFound'))
      return undefined;
    throw error;
  }
}

async function readReference(sources: SignatureSources, reference: ModelReference): Promise<ModelSignature> {
  const file = await resolveModelFile(reference, sources);
  return contract(readOnnxSignature(new Uint8Array(await readFile(file)), file));
}

/** Only what callers depend on: names, datatypes, shapes. */
function contract(signature: ModelSignature): ModelSignature {
  return { inputs: signature.inputs, outputs: signature.outputs };
}
