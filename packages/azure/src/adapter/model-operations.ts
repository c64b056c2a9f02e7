import type { ModelVersion as AzureModelVersion } from '@azure/arm-machinelearning';
import type {
  CallOptionsV1,
  Lineage,
  ModelOperationsV1,
  ModelVersion,
  RegisterModelSpec,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { assertAzureReadable, hashArtifact, localPathOf, uploadArtifact } from './model-artifacts.js';
import { localArtifactSignature } from './model-signatures.js';
import { managedByValue, propertyNames, tagNames } from './resource-names.js';
import { machineLearningItems } from './sdk-pages.js';
import { toMlscaleError } from './to-mlscale-error.js';

function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** An Azure model version as core's ModelVersion. */
export function toModelVersion(name: string, resource: AzureModelVersion): ModelVersion {
  const properties = resource.properties;
  const bag = properties.properties ?? {};
  const baseline = parseJson<ModelVersion['baseline'] | undefined>(bag[propertyNames.baseline], undefined);
  return {
    name,
    version: Number(resource.name),
    format: 'onnx',
    uri: properties.modelUri ?? '',
    sha256: properties.tags?.[tagNames.sha256] ?? '',
    sizeBytes: Number(bag[propertyNames.sizeBytes] ?? 0),
    createdAt: resource.systemData?.createdAt ? new Date(resource.systemData.createdAt) : new Date(0),
    metadata: parseJson<Record<string, unknown>>(bag[propertyNames.metadata], {}),
    lineage: parseJson<Lineage>(bag[propertyNames.lineage], {}),
    ...(baseline ? { baseline } : {}),
  };
}

/** The registered version's ARM id, which a deployment's `properties.model` takes. */
export function modelAssetId(context: AdapterContext, name: string, version: number | string): string {
  return `${context.workspaceId}/models/${name}/versions/${version}`;
}

/** The next version number Azure would give, from the container's `nextVersion` (1 for a new model). */
async function nextVersion(context: AdapterContext, name: string): Promise<number> {
  const { settings } = context;
  const container = await context.find(`Reading model '${name}'`, (clients) =>
    clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, name),
  );
  const next = Number(container?.properties.nextVersion ?? Number.NaN);
  if (Number.isInteger(next) && next > 0) return next;
  const latest = Number(container?.properties.latestVersion ?? 0);
  return Number.isInteger(latest) ? latest + 1 : 1;
}

/** Registers a model version: a local file or folder is uploaded (content-addressed) first. */
export async function registerModel(
  context: AdapterContext,
  spec: RegisterModelSpec,
  signal: AbortSignal | undefined,
  /** More tags for the version (a deployment's registration names its endpoint). */
  extraTags: Record<string, string> = {},
): Promise<ModelVersion> {
  const { settings } = context;
  assertAzureReadable(spec.path, 'path');
  const localPath = localPathOf(spec.path);
  let modelUri = spec.path;
  let sha256 = '';
  let sizeBytes = 0;
  let signature: string | undefined;
  if (localPath !== undefined) {
    // Read here, where the bytes are: the signature gate compares the next model with this record.
    const read = spec.format === 'onnx' ? await localArtifactSignature(localPath) : undefined;
    if (read) signature = JSON.stringify(read);
    const uploaded = await uploadArtifact(
      context,
      await hashArtifact(localPath, 'path'),
      'models',
      spec.name,
      signal,
    );
    modelUri = uploaded.uri;
    sha256 = uploaded.sha256;
    sizeBytes = uploaded.sizeBytes;
  }
  const version = await nextVersion(context, spec.name);
  const created = await context.call(`Registering model '${spec.name}' version ${version}`, (clients) =>
    clients.machineLearning.modelVersions.createOrUpdate(
      settings.resourceGroup,
      settings.workspace,
      spec.name,
      String(version),
      {
        properties: {
          modelUri,
          modelType: 'custom_model',
          description: typeof spec.metadata.description === 'string' ? spec.metadata.description : undefined,
          ...(spec.lineage.jobName ? { jobName: spec.lineage.jobName } : {}),
          tags: {
            ...extraTags,
            [tagNames.managedBy]: managedByValue,
            ...(sha256 ? { [tagNames.sha256]: sha256 } : {}),
          },
          properties: {
            [propertyNames.format]: spec.format,
            [propertyNames.sizeBytes]: String(sizeBytes),
            [propertyNames.metadata]: JSON.stringify(spec.metadata),
            [propertyNames.lineage]: JSON.stringify(spec.lineage),
            ...(spec.baseline ? { [propertyNames.baseline]: JSON.stringify(spec.baseline) } : {}),
            ...(signature ? { [propertyNames.signature]: signature } : {}),
          },
        },
      },
      { abortSignal: signal },
    ),
  );
  return toModelVersion(spec.name, created);
}

/** One version, or the latest when `version` is undefined. */
export async function getModel(
  context: AdapterContext,
  name: string,
  version: number | undefined,
  signal: AbortSignal | undefined,
): Promise<ModelVersion | undefined> {
  const { settings } = context;
  let wanted = version === undefined ? undefined : String(version);
  if (wanted === undefined) {
    const container = await context.find(`Reading model '${name}'`, (clients) =>
      clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, name, {
        abortSignal: signal,
      }),
    );
    wanted = container?.properties.latestVersion;
    if (!wanted) return undefined;
  }
  const found = await context.find(`Reading model '${name}' version ${wanted}`, (clients) =>
    clients.machineLearning.modelVersions.get(settings.resourceGroup, settings.workspace, name, wanted, {
      abortSignal: signal,
    }),
  );
  return found ? toModelVersion(name, found) : undefined;
}

/** Versions of one model, or of every model, newest first. */
export async function* listModels(
  context: AdapterContext,
  name: string | undefined,
  signal: AbortSignal | undefined,
): AsyncIterable<ModelVersion> {
  const { settings } = context;
  const clients = await context.call('Listing models', async (resolved) => resolved);
  const names: string[] = [];
  if (name !== undefined) names.push(name);
  else {
    try {
      for await (const container of machineLearningItems(
        clients,
        clients.machineLearning.modelContainers.list(settings.resourceGroup, settings.workspace, {
          abortSignal: signal,
        }),
      )) {
        if (container.name) names.push(container.name);
      }
    } catch (error) {
      throw toMlscaleError(error, 'Listing models');
    }
  }
  const versions: ModelVersion[] = [];
  for (const modelName of names) {
    const found = await context
      .call(`Listing versions of model '${modelName}'`, async (resolved) => {
        const items: ModelVersion[] = [];
        for await (const item of machineLearningItems(
          resolved,
          resolved.machineLearning.modelVersions.list(settings.resourceGroup, settings.workspace, modelName, {
            orderBy: 'createdtime desc',
            abortSignal: signal,
          }),
        )) {
          items.push(toModelVersion(modelName, item));
        }
        return items;
      })
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === 'NotFound') return [] as ModelVersion[];
        throw error;
      });
    versions.push(...found);
  }
  versions.sort(
    (left, right) => right.createdAt.getTime() - left.createdAt.getTime() || right.version - left.version,
  );
  yield* versions;
}

/** The model registry group. */
export function createModelOperations(context: AdapterContext): ModelOperationsV1 {
  return {
    doRegister: (spec: RegisterModelSpec, options: CallOptionsV1) =>
      registerModel(context, spec, options.signal),
    doGet: (name, version, options) => getModel(context, name, version, options.signal),
    doList: (name, options) => listModels(context, name, options.signal),
  };
}
