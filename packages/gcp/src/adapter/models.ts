import type { protos } from '@google-cloud/aiplatform';
import type { ModelOperationsV1, ModelVersion } from '@mlscale/core';
import { stageArtifact } from './artifacts.js';
import { callVertex, singleAttempt } from './calls.js';
import { type AdapterContext, clientsOf, toDate } from './context.js';
import { listModels, listModelVersions, servingContainer, uploadRegistryVersion } from './model-resolver.js';
import { signatureOfArtifact } from './model-signatures.js';
import { labelFilter, labelKeys } from './names.js';
import { describeVersion, readVersionRecord, type VersionRecordInput } from './version-record.js';

type IModel = protos.google.cloud.aiplatform.v1.IModel;

/**
 * The Vertex Model Registry: a registered name is one Vertex model (found by its `mlscale-model` label)
 * and each registration uploads a new version of it (UploadModel with `parent_model`).
 */
export function createModelOperations(context: AdapterContext): ModelOperationsV1 {
  function versionOf(name: string, model: IModel): ModelVersion {
    const record = readVersionRecord(model);
    return {
      name,
      version: Number(model.versionId),
      format: 'onnx',
      uri: record?.uri ?? model.artifactUri ?? '',
      sha256: record?.sha256 ?? '',
      sizeBytes: record?.sizeBytes ?? 0,
      createdAt: toDate(model.versionCreateTime) ?? toDate(model.createTime) ?? new Date(0),
      metadata: record?.metadata ?? {},
      lineage: record?.lineage ?? {},
      ...(record?.baseline ? { baseline: record.baseline } : {}),
    };
  }

  async function versionsOf(name: string, signal?: AbortSignal): Promise<ModelVersion[]> {
    const [model] = await listModels(context, labelFilter(labelKeys.model, name), signal);
    if (!model?.name) return [];
    return (await listModelVersions(context, model.name, signal)).map((version) => versionOf(name, version));
  }

  return {
    async doRegister(spec, options) {
      const staged = await stageArtifact(
        spec.path,
        'path',
        context.settings,
        async () => (await clientsOf(context)).storage,
        options.signal,
      );
      const [existing] = await listModels(context, labelFilter(labelKeys.model, spec.name), options.signal);
      // Read at registration, so an update to this version is checked against what it takes and gives.
      const signature = await signatureOfArtifact(context, spec.path, options.signal);
      const record: VersionRecordInput = {
        sha256: staged.sha256 ?? '',
        sizeBytes: staged.sizeBytes ?? 0,
        uri: staged.fileName ? `${staged.artifactUri}${staged.fileName}` : staged.artifactUri,
        metadata: spec.metadata,
        lineage: spec.lineage,
        ...(spec.baseline ? { baseline: spec.baseline } : {}),
        ...(signature ? { signature } : {}),
      };
      const versionName = await uploadRegistryVersion(
        context,
        {
          displayName: spec.name,
          artifactUri: staged.artifactUri,
          containerSpec: servingContainer(context, undefined, staged.fileName),
          versionDescription: describeVersion(record),
          labels: { [labelKeys.managed]: 'true', [labelKeys.model]: spec.name },
        },
        existing?.name ?? undefined,
        options.signal,
      );
      const clients = await clientsOf(context);
      const [model] = await callVertex('GetModel', options.signal, () =>
        clients.models.getModel({ name: versionName }, singleAttempt),
      );
      return versionOf(spec.name, model);
    },
    async doGet(name, version, options) {
      const versions = await versionsOf(name, options.signal);
      return version === undefined
        ? versions.at(-1)
        : versions.find((candidate) => candidate.version === version);
    },
    async *doList(name, options) {
      if (name) {
        yield* (await versionsOf(name, options.signal)).reverse();
        return;
      }
      const models = await listModels(context, `labels.${labelKeys.model}:*`, options.signal);
      for (const model of models) {
        const registered = model.labels?.[labelKeys.model];
        if (registered) yield* (await versionsOf(registered, options.signal)).reverse();
      }
    },
  };
}
