import type { protos } from '@google-cloud/aiplatform';
import { type DeploymentSpec, MlscaleError, type ModelReference } from '@mlscale/core';
import {
  awaitOperation,
  callVertex,
  collect,
  listAll,
  type OperationState,
  singleAttempt,
  singlePage,
} from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { provider } from './errors.js';
import { labelFilter, labelKeys, locationName } from './names.js';
import { deploymentOptions } from './provider-options.js';

export type IModel = protos.google.cloud.aiplatform.v1.IModel;

/** A model in the registry, by name and version. */
export type RegistryModelReference = Extract<ModelReference, { name: string }>;

/** The serving container of every mlscale model: the mlscale server image, its port, routes and env. */
export function servingContainer(
  context: AdapterContext,
  spec: Pick<DeploymentSpec, 'environment' | 'batching' | 'providerOptions'> | undefined,
  fileName: string | undefined,
): protos.google.cloud.aiplatform.v1.IModelContainerSpec {
  const { servingContainer: container } = context.settings;
  const environment: Record<string, string> = {
    MLSCALE_MODEL_FORMAT: 'onnx',
    ...(spec?.environment ?? {}),
  };
  if (fileName) environment.MLSCALE_MODEL_FILE = fileName;
  if (spec?.batching) {
    environment.MLSCALE_MAX_BATCH_SIZE = String(spec.batching.maxBatchSize);
    environment.MLSCALE_MAX_QUEUE_DELAY_MS = String(spec.batching.maxQueueDelayMs);
    environment.MLSCALE_MAX_QUEUE_SIZE = String(spec.batching.maxQueueSize);
    environment.MLSCALE_REQUEST_TIMEOUT_MS = String(spec.batching.requestTimeoutMs);
  }
  return {
    imageUri: servingImage(context, spec),
    ports: [{ containerPort: container.port }],
    ...(container.predictRoute ? { predictRoute: container.predictRoute } : {}),
    ...(container.healthRoute ? { healthRoute: container.healthRoute } : {}),
    env: Object.entries(environment)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value })),
  };
}

/** The image a deployment's container runs: its own `providerOptions.gcp.servingImage`, or the backend's. */
export function servingImage(
  context: AdapterContext,
  spec: Pick<DeploymentSpec, 'providerOptions'> | undefined,
): string {
  const options = spec ? deploymentOptions(spec.providerOptions?.gcp) : {};
  return options.servingImage ?? context.settings.servingImage;
}

/** Models matching a filter (ListModels, page by page). */
export function listModels(
  context: AdapterContext,
  filter: string,
  signal: AbortSignal | undefined,
): Promise<IModel[]> {
  return collect(
    listAll<IModel>('ListModels', signal, async (pageToken) => {
      const clients = await clientsOf(context);
      return clients.models.listModels(
        { parent: locationName(context.settings), filter, ...(pageToken ? { pageToken } : {}) },
        singlePage,
      );
    }),
  );
}

/** Every version of one model, oldest first. */
export async function listModelVersions(
  context: AdapterContext,
  modelName: string,
  signal: AbortSignal | undefined,
): Promise<IModel[]> {
  const versions = await collect(
    listAll<IModel>('ListModelVersions', signal, async (pageToken) => {
      const clients = await clientsOf(context);
      return clients.models.listModelVersions(
        { name: modelName, ...(pageToken ? { pageToken } : {}) },
        singlePage,
      );
    }),
  );
  return versions.sort((a, b) => Number(a.versionId) - Number(b.versionId));
}

/** UploadModel, one request: under `modelId` when given (a repeat then answers ALREADY_EXISTS). */
export async function startUploadModel(
  context: AdapterContext,
  model: IModel,
  options: { modelId?: string; parentModel?: string },
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('UploadModel', signal, () =>
    clients.models.uploadModel(
      {
        parent: locationName(context.settings),
        model,
        ...(options.modelId ? { modelId: options.modelId } : {}),
        ...(options.parentModel ? { parentModel: options.parentModel } : {}),
      },
      singleAttempt,
    ),
  );
  return { name: operation.name, done: operation.done };
}

/** DeleteModel (every version), one request. */
export async function startDeleteModel(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex('DeleteModel', signal, () =>
    clients.models.deleteModel({ name }, singleAttempt),
  );
  return { name: operation.name, done: operation.done };
}

/**
 * Uploads a registry version and waits for its operation (registration is not a deployment: it has no
 * record to converge, so it waits); returns the version's name.
 */
export async function uploadRegistryVersion(
  context: AdapterContext,
  model: IModel,
  parentModel: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const clients = await clientsOf(context);
  const started = await startUploadModel(context, model, parentModel ? { parentModel } : {}, signal);
  const done = await awaitOperation(
    context.settings,
    `UploadModel ${model.displayName}`,
    async () => (await clients.models.getOperation({ name: started.name! } as never, singleAttempt))[0],
    signal,
  );
  const decoder = (
    clients.models.descriptors.longrunning as Record<
      string,
      { responseDecoder: (bytes: Uint8Array) => unknown }
    >
  ).uploadModel;
  const bytes = done.response?.value;
  const response = (
    bytes
      ? decoder?.responseDecoder(typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes)
      : undefined
  ) as protos.google.cloud.aiplatform.v1.IUploadModelResponse | undefined;
  if (!response?.model || !response.modelVersionId) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      message: 'UploadModel finished without a model name.',
    });
  }
  return `${response.model}@${response.modelVersionId}`;
}

/** The registry version a deployment's `{ name, version }` reference means: `models/ID@VERSION`. */
export async function resolveRegistryVersion(
  context: AdapterContext,
  reference: RegistryModelReference,
  field: string,
  signal: AbortSignal | undefined,
): Promise<{ versionName: string; versionId: string }> {
  const [model] = await listModels(context, labelFilter(labelKeys.model, reference.name), signal);
  if (!model?.name) {
    throw new MlscaleError({
      code: 'NotFound',
      provider,
      message: `No registered model named '${reference.name}' (${field}). Register it first with models.register.`,
    });
  }
  const versions = await listModelVersions(context, model.name, signal);
  const version =
    reference.version === 'latest'
      ? versions.at(-1)
      : versions.find((candidate) => Number(candidate.versionId) === reference.version);
  if (!version?.versionId) {
    throw new MlscaleError({
      code: 'NotFound',
      provider,
      message: `Registered model '${reference.name}' has no version ${reference.version} (${field}).`,
    });
  }
  return { versionName: `${model.name}@${version.versionId}`, versionId: version.versionId };
}
