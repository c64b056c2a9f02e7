import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CallOptionsV1,
  MlscaleError,
  type ModelReference,
  type ModelSignature,
  modelSignatureSchema,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { readEndpoint } from './deployment-observation.js';
import { recordOf } from './deployment-record-store.js';
import { localPathOf } from './model-artifacts.js';
import { propertyNames } from './resource-names.js';

/**
 * The signature of a local ONNX artifact: the file itself, or the one `.onnx` file of a folder.
 * `undefined` when there is none or the bytes are not ONNX (another format: nothing to compare).
 */
export async function localArtifactSignature(path: string): Promise<ModelSignature | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  let file = path;
  if (info.isDirectory()) {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    const models = entries.filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.onnx'));
    if (models.length !== 1) return undefined;
    const entry = models[0]!;
    // `parentPath` arrived in Node 20.12; 20.11 calls it `path`.
    const parent = (entry as { parentPath?: string }).parentPath ?? (entry as { path?: string }).path ?? path;
    file = join(parent, entry.name);
  }
  const { readOnnxSignature } = await import('@mlscale/core/onnx');
  try {
    const { inputs, outputs } = readOnnxSignature(await readFile(file), file);
    return { inputs, outputs };
  } catch (error) {
    if (MlscaleError.hasCode(error, 'InvalidSpec')) return undefined;
    throw error;
  }
}

/** The signature recorded in a model version's properties (zod-checked: anyone can write them). */
export function recordedSignature(
  properties: Record<string, string | null> | undefined,
): ModelSignature | undefined {
  const text = properties?.[propertyNames.signature];
  if (!text) return undefined;
  try {
    const parsed = modelSignatureSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The signature recorded with a registered version (the latest when `version` is undefined). */
async function registeredSignature(
  context: AdapterContext,
  name: string,
  version: number | string | undefined,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const { settings } = context;
  let wanted = version === undefined ? undefined : String(version);
  if (wanted === undefined) {
    const container = await context.find(
      `Reading model '${name}'`,
      (clients) =>
        clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, name, {
          abortSignal: signal,
        }),
      signal,
    );
    wanted = container?.properties.latestVersion;
    if (!wanted) return undefined;
  }
  const found = await context.find(
    `Reading model '${name}' version ${wanted}`,
    (clients) =>
      clients.machineLearning.modelVersions.get(settings.resourceGroup, settings.workspace, name, wanted, {
        abortSignal: signal,
      }),
    signal,
  );
  return recordedSignature(found?.properties.properties);
}

/** A model reference's signature: a local ONNX file read here, a registered version from its record. */
export function modelSignature(
  context: AdapterContext,
  model: ModelReference,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  if ('name' in model) return registeredSignature(context, model.name, model.version, signal);
  const localPath = localPathOf(model.uri);
  // A remote artifact (azureml://, https://) is read by Azure, not by mlscale: its signature is unknown,
  // as is one of another format (only ONNX declares its tensors).
  if (localPath === undefined || (model.format ?? 'onnx') !== 'onnx') return Promise.resolve(undefined);
  return localArtifactSignature(localPath);
}

/** The ARM id `{workspace}/models/{name}/versions/{version}` a deployment's `properties.model` holds. */
const modelAssetPattern = /\/models\/([^/]+)\/versions\/([^/]+)$/i;

/**
 * What an endpoint serves now: the model versions of the deployments that take its live traffic (the
 * heaviest first), or, before any traffic is routed (a first deploy still provisioning), of the
 * deployments it has; each read from what was recorded when mlscale registered it. The heaviest one's
 * signature (a split's versions normally share it); `undefined` when any is unknown, the endpoint has no
 * deployment yet, or mlscale did not make it.
 */
export async function servingSignature(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const snapshot = await readEndpoint(context, name, signal);
  if (!snapshot || !recordOf(snapshot.endpoint)) return undefined;
  const live = Object.entries(snapshot.endpoint.properties.traffic ?? {})
    .filter(([, share]) => share > 0)
    .sort(([, left], [, right]) => right - left)
    .map(([deploymentName]) => deploymentName.toLowerCase());
  const serving =
    live.length > 0
      ? live.map((deploymentName) =>
          snapshot.deployments.find((item) => item.name?.toLowerCase() === deploymentName),
        )
      : snapshot.deployments.filter((item) => item.properties.provisioningState !== 'Deleting');
  let heaviest: ModelSignature | undefined;
  for (const deployment of serving) {
    const asset = modelAssetPattern.exec(deployment?.properties.model ?? '');
    if (!asset) return undefined;
    const signature = await registeredSignature(context, asset[1]!, asset[2]!, signal);
    if (!signature) return undefined;
    heaviest ??= signature;
  }
  return heaviest;
}

/** `doResolveSignature` of the deployment group. */
export function resolveSignature(
  context: AdapterContext,
  target: { deployment: string } | { model: ModelReference },
  options: CallOptionsV1,
): Promise<ModelSignature | undefined> {
  return 'deployment' in target
    ? servingSignature(context, target.deployment, options.signal)
    : modelSignature(context, target.model, options.signal);
}
