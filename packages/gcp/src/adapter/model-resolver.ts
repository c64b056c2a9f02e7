import type { protos } from '@google-cloud/aiplatform';
import { type DeploymentSpec, MlscaleError, type ModelReference, specHash } from '@mlscale/core';
import { stageArtifact } from './artifacts.js';
import { awaitOperation, callVertex } from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { provider } from './errors.js';
import { labelFilter, labelKeys, locationName, tagLabels } from './names.js';
import { deploymentOptions } from './provider-options.js';

type IModel = protos.google.cloud.aiplatform.v1.IModel;

/** A Vertex model version ready to deploy. */
export interface ResolvedModel {
  /** `projects/P/locations/L/models/ID@VERSION`. */
  versionName: string;
  /** A short label for traffic reports (`mnist@3`, or the artifact's hash). */
  label: string;
}

/** The serving container of every mlscale model: the mlscale server image, its port and routes. */
export function servingContainer(
  context: AdapterContext,
  spec: Pick<DeploymentSpec, 'environment' | 'batching' | 'providerOptions'> | undefined,
  fileName: string | undefined,
): protos.google.cloud.aiplatform.v1.IModelContainerSpec {
  const { servingContainer: container } = context.settings;
  const options = spec ? deploymentOptions(spec.providerOptions?.gcp) : {};
  const environment: Record<string, string> = { MLSCALE_MODEL_FORMAT: 'onnx', ...(spec?.environment ?? {}) };
  if (fileName) environment.MLSCALE_MODEL_FILE = fileName;
  if (spec?.batching) {
    environment.MLSCALE_MAX_BATCH_SIZE = String(spec.batching.maxBatchSize);
    environment.MLSCALE_MAX_QUEUE_DELAY_MS = String(spec.batching.maxQueueDelayMs);
    environment.MLSCALE_MAX_QUEUE_SIZE = String(spec.batching.maxQueueSize);
    environment.MLSCALE_REQUEST_TIMEOUT_MS = String(spec.batching.requestTimeoutMs);
  }
  return {
    imageUri: options.servingImage ?? context.settings.servingImage,
    ports: [{ containerPort: container.port }],
    ...(container.predictRoute ? { predictRoute: container.predictRoute } : {}),
    ...(container.healthRoute ? { healthRoute: container.healthRoute } : {}),
    env: Object.entries(environment)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value })),
  };
}

/** Lists models matching a filter (all pages). */
export async function listModels(
  context: AdapterContext,
  filter: string,
  signal?: AbortSignal,
): Promise<IModel[]> {
  const clients = await clientsOf(context);
  return callVertex(
    context.settings,
    'ListModels',
    async () => {
      const [models] = await clients.models.listModels({ parent: locationName(context.settings), filter });
      return models;
    },
    { signal, idempotent: true },
  );
}

/** Every version of one model, oldest first. */
export async function listModelVersions(
  context: AdapterContext,
  modelName: string,
  signal?: AbortSignal,
): Promise<IModel[]> {
  const clients = await clientsOf(context);
  const versions = await callVertex(
    context.settings,
    'ListModelVersions',
    async () => {
      const [models] = await clients.models.listModelVersions({ name: modelName });
      return models;
    },
    { signal, idempotent: true },
  );
  return versions.sort((a, b) => Number(a.versionId) - Number(b.versionId));
}

/** Uploads a model (or a new version of one) and waits for the operation; returns the version's name. */
export async function uploadModel(
  context: AdapterContext,
  model: IModel,
  parentModel: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const clients = await clientsOf(context);
  const [operation] = await callVertex(
    context.settings,
    'UploadModel',
    () =>
      clients.models.uploadModel({
        parent: locationName(context.settings),
        model,
        ...(parentModel ? { parentModel } : {}),
      }),
    { signal },
  );
  const response = await awaitOperation<protos.google.cloud.aiplatform.v1.IUploadModelResponse>(
    context.settings,
    `UploadModel ${model.displayName}`,
    () => clients.models.checkUploadModelProgress(operation.name!),
    signal,
  );
  if (!response?.model || !response.modelVersionId) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      message: 'UploadModel finished without a model name.',
    });
  }
  return `${response.model}@${response.modelVersionId}`;
}

/**
 * The Vertex model version a deployment's model reference means. A registered model is looked up by
 * its `mlscale-model` label; an artifact is staged in Cloud Storage and uploaded once, under a label
 * derived from everything in the upload, so a repeated or interrupted deploy reuses it.
 */
export async function resolveModel(
  context: AdapterContext,
  reference: ModelReference,
  field: string,
  spec: DeploymentSpec,
  signal: AbortSignal | undefined,
): Promise<ResolvedModel> {
  if ('name' in reference) {
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
    if (!version) {
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `Registered model '${reference.name}' has no version ${reference.version} (${field}).`,
      });
    }
    return {
      versionName: `${model.name}@${version.versionId}`,
      label: `${reference.name}@${version.versionId}`,
    };
  }
  const staged = await stageArtifact(
    reference.uri,
    `${field}.uri`,
    context.settings,
    async () => (await clientsOf(context)).storage,
    signal,
  );
  const containerSpec = servingContainer(context, spec, staged.fileName);
  const key = specHash({
    artifactUri: staged.artifactUri,
    containerSpec,
    encryption: spec.encryption ?? null,
  }).slice(0, 32);
  const label = `${spec.name}-${(staged.sha256 ?? key).slice(0, 8)}`;
  const [existing] = await listModels(
    context,
    `${labelFilter(labelKeys.artifact, key)} AND ${labelFilter(labelKeys.deployment, spec.name)}`,
    signal,
  );
  if (existing?.name && existing.versionId)
    return { versionName: `${existing.name}@${existing.versionId}`, label };
  const versionName = await uploadModel(
    context,
    {
      displayName: label,
      artifactUri: staged.artifactUri,
      containerSpec,
      labels: {
        [labelKeys.managed]: 'true',
        [labelKeys.deployment]: spec.name,
        [labelKeys.artifact]: key,
        ...tagLabels(spec.tags),
      },
      ...(spec.encryption ? { encryptionSpec: { kmsKeyName: spec.encryption.keyId } } : {}),
    },
    undefined,
    signal,
  );
  return { versionName, label };
}
