import { gunzipSync, gzipSync } from 'node:zlib';
import type { DescribeModelPackageCommandOutput } from '@aws-sdk/client-sagemaker';
import {
  type CallOptionsV1,
  canonicalJson,
  type Lineage,
  MlscaleError,
  type ModelOperationsV1,
  type ModelSignature,
  type ModelVersion,
  modelFormatSchema,
  modelSignatureSchema,
  parseSpec,
  registerModelSchema,
  resourceNameSchema,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { artifactSignature, uploadLayout } from './artifact-signatures.js';

/** CustomerMetadataProperties keys mlscale uses; the rest of the record is gzipped into `mlscale:record-N`. */
const propertyKeys = {
  format: 'mlscale:format',
  sha256: 'mlscale:sha256',
  sizeBytes: 'mlscale:size-bytes',
  record: 'mlscale:record-',
};
/** SageMaker allows 50 properties of up to 256 characters. */
const propertyLength = 256;
const maximumRecordChunks = 46;

interface StoredRecord {
  metadata: Record<string, unknown>;
  lineage: Lineage;
  baseline?: ModelVersion['baseline'];
  /** The model's inputs and outputs, read from its artifact at registration (for the signature gate). */
  signature?: ModelSignature;
}

function recordProperties(record: StoredRecord): Record<string, string> {
  const encoded = gzipSync(Buffer.from(canonicalJson(record))).toString('base64url');
  const chunks = Math.ceil(encoded.length / propertyLength);
  if (chunks > maximumRecordChunks) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `metadata, lineage and baseline take ${encoded.length} characters compressed; SageMaker model packages hold at most ${maximumRecordChunks * propertyLength}. Trim the metadata or the baseline histograms.`,
    });
  }
  const properties: Record<string, string> = {};
  for (let index = 0; index < chunks; index++) {
    properties[`${propertyKeys.record}${index}`] = encoded.slice(
      index * propertyLength,
      (index + 1) * propertyLength,
    );
  }
  return properties;
}

function recordFromProperties(properties: Record<string, string>): StoredRecord {
  const parts: string[] = [];
  for (let index = 0; properties[`${propertyKeys.record}${index}`] !== undefined; index++) {
    parts.push(properties[`${propertyKeys.record}${index}`]!);
  }
  try {
    return JSON.parse(gunzipSync(Buffer.from(parts.join(''), 'base64url')).toString('utf8')) as StoredRecord;
  } catch {
    return { metadata: {}, lineage: {} };
  }
}

/** A model package as mlscale's model version. */
export function modelVersionFrom(describe: DescribeModelPackageCommandOutput): ModelVersion {
  const properties = describe.CustomerMetadataProperties ?? {};
  const record = recordFromProperties(properties);
  const container = describe.InferenceSpecification?.Containers?.[0];
  const format = modelFormatSchema.safeParse(properties[propertyKeys.format]);
  return {
    name: describe.ModelPackageGroupName ?? describe.ModelPackageName ?? '',
    version: describe.ModelPackageVersion ?? 0,
    format: format.success ? format.data : 'onnx',
    uri: container?.ModelDataUrl ?? container?.ModelDataSource?.S3DataSource?.S3Uri ?? '',
    sha256: properties[propertyKeys.sha256] ?? '',
    sizeBytes: Number(properties[propertyKeys.sizeBytes] ?? 0),
    createdAt: describe.CreationTime ?? new Date(0),
    metadata: record.metadata ?? {},
    lineage: record.lineage ?? {},
    ...(record.baseline ? { baseline: record.baseline } : {}),
  };
}

/** The signature recorded with a model package at registration; undefined when none was. */
export function recordedSignature(describe: DescribeModelPackageCommandOutput): ModelSignature | undefined {
  const parsed = modelSignatureSchema.safeParse(
    recordFromProperties(describe.CustomerMetadataProperties ?? {}).signature,
  );
  return parsed.success ? parsed.data : undefined;
}

/** Reads one version (the latest when `version` is undefined) of a registered model; undefined when there is none. */
export async function readModelVersion(
  context: AdapterContext,
  name: string,
  version: number | undefined,
  signal?: AbortSignal,
): Promise<ModelVersion | undefined> {
  const describe = await readModelPackage(context, name, version, signal);
  return describe ? modelVersionFrom(describe) : undefined;
}

/** The model package of one version (the latest when `version` is undefined); undefined when there is none. */
export async function readModelPackage(
  context: AdapterContext,
  name: string,
  version: number | undefined,
  signal?: AbortSignal,
): Promise<DescribeModelPackageCommandOutput | undefined> {
  const group = await context.aws.find(
    'sageMaker',
    'DescribeModelPackageGroup',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeModelPackageGroupCommand({ ModelPackageGroupName: name }), {
        abortSignal,
      }),
    signal,
  );
  if (!group?.ModelPackageGroupArn) return undefined;
  let arn: string | undefined;
  if (version === undefined) {
    const latest = await context.aws.call(
      'sageMaker',
      'ListModelPackages',
      ({ module, client }, abortSignal) =>
        client.send(
          new module.ListModelPackagesCommand({
            ModelPackageGroupName: name,
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            MaxResults: 1,
          }),
          { abortSignal },
        ),
      signal,
    );
    arn = latest.ModelPackageSummaryList?.[0]?.ModelPackageArn;
    if (!arn) return undefined;
  } else {
    arn = `${group.ModelPackageGroupArn.replace(':model-package-group/', ':model-package/')}/${version}`;
  }
  return context.aws.find(
    'sageMaker',
    'DescribeModelPackage',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeModelPackageCommand({ ModelPackageName: arn }), { abortSignal }),
    signal,
  );
}

/** The SageMaker Model Registry: a model is a model package group, each version a model package. */
export function createModelRegistryOperations(context: AdapterContext): ModelOperationsV1 {
  const { aws, settings } = context;

  async function versionsOf(group: string, signal?: AbortSignal): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    const packages = aws.items(
      'sageMaker',
      'ListModelPackages',
      ({ module, client }, abortSignal) =>
        module.paginateListModelPackages(
          { client, stopOnSameToken: true, pageSize: 100 },
          { ModelPackageGroupName: group, SortBy: 'CreationTime', SortOrder: 'Descending' },
          { abortSignal },
        ),
      (page) => ({ items: page.ModelPackageSummaryList, nextToken: page.NextToken }),
      signal,
    );
    for await (const summary of packages) {
      const describe = await aws.find(
        'sageMaker',
        'DescribeModelPackage',
        ({ module, client }, abortSignal) =>
          client.send(new module.DescribeModelPackageCommand({ ModelPackageName: summary.ModelPackageArn }), {
            abortSignal,
          }),
        signal,
      );
      if (describe) versions.push(modelVersionFrom(describe));
    }
    return versions.sort((left, right) => right.version - left.version);
  }

  return {
    async doRegister(input, options: CallOptionsV1) {
      const spec = parseSpec(registerModelSchema, input, 'model registration');
      const { signal } = options;
      if (!settings.servingImage) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message:
            'servingImage: a SageMaker model package names its inference image; set servingImage in sagemaker() settings (or MLSCALE_SAGEMAKER_IMAGE).',
          issues: [{ path: 'servingImage', message: 'expected a container image URI' }],
        });
      }
      const stored: StoredRecord = {
        metadata: spec.metadata,
        lineage: spec.lineage,
        ...(spec.baseline ? { baseline: spec.baseline } : {}),
      };
      // Too much metadata is refused before anything is uploaded.
      recordProperties(stored);
      const artifact = await context.artifacts.modelArtifact(spec.path, signal);
      const signature = await artifactSignature(context.aws, uploadLayout(settings), spec.path, signal);
      const record = recordProperties({
        ...stored,
        ...(signature ? { signature } : {}),
      });
      const exists = await aws.find(
        'sageMaker',
        'DescribeModelPackageGroup',
        ({ module, client }, abortSignal) =>
          client.send(new module.DescribeModelPackageGroupCommand({ ModelPackageGroupName: spec.name }), {
            abortSignal,
          }),
        signal,
      );
      if (!exists) {
        try {
          await aws.call(
            'sageMaker',
            'CreateModelPackageGroup',
            ({ module, client }, abortSignal) =>
              client.send(
                new module.CreateModelPackageGroupCommand({
                  ModelPackageGroupName: spec.name,
                  ModelPackageGroupDescription: `mlscale model ${spec.name}`,
                  Tags: [{ Key: 'mlscale:model', Value: spec.name }],
                }),
                { abortSignal },
              ),
            signal,
          );
        } catch (error) {
          // Another register made it first: fine.
          if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
        }
      }
      const created = await aws.call(
        'sageMaker',
        'CreateModelPackage',
        ({ module, client }, abortSignal) =>
          client.send(
            new module.CreateModelPackageCommand({
              ModelPackageGroupName: spec.name,
              ModelPackageDescription:
                typeof spec.metadata.description === 'string'
                  ? spec.metadata.description.slice(0, 1024)
                  : undefined,
              InferenceSpecification: {
                Containers: [
                  {
                    Image: settings.servingImage,
                    ModelDataUrl: artifact.url,
                    Environment: { MLSCALE_MODEL_FORMAT: spec.format },
                  },
                ],
                SupportedContentTypes: ['application/json'],
                SupportedResponseMIMETypes: ['application/json'],
              },
              ModelApprovalStatus: 'Approved',
              CustomerMetadataProperties: {
                [propertyKeys.format]: spec.format,
                [propertyKeys.sha256]: artifact.sha256,
                [propertyKeys.sizeBytes]: String(artifact.sizeBytes),
                ...record,
              },
            }),
            { abortSignal },
          ),
        signal,
      );
      const describe = await aws.call(
        'sageMaker',
        'DescribeModelPackage',
        ({ module, client }, abortSignal) =>
          client.send(new module.DescribeModelPackageCommand({ ModelPackageName: created.ModelPackageArn }), {
            abortSignal,
          }),
        signal,
      );
      return modelVersionFrom(describe);
    },

    async doGet(name, version, options) {
      parseSpec(resourceNameSchema, name, 'model name');
      return readModelVersion(context, name, version, options.signal);
    },

    async *doList(name, options) {
      if (name !== undefined) {
        parseSpec(resourceNameSchema, name, 'model name');
        const exists = await aws.find(
          'sageMaker',
          'DescribeModelPackageGroup',
          ({ module, client }, abortSignal) =>
            client.send(new module.DescribeModelPackageGroupCommand({ ModelPackageGroupName: name }), {
              abortSignal,
            }),
          options.signal,
        );
        if (exists) yield* await versionsOf(name, options.signal);
        return;
      }
      const all: ModelVersion[] = [];
      const groups = aws.items(
        'sageMaker',
        'ListModelPackageGroups',
        ({ module, client }, abortSignal) =>
          module.paginateListModelPackageGroups(
            { client, stopOnSameToken: true, pageSize: 100 },
            {},
            { abortSignal },
          ),
        (page) => ({ items: page.ModelPackageGroupSummaryList, nextToken: page.NextToken }),
        options.signal,
      );
      for await (const group of groups) {
        if (group.ModelPackageGroupName)
          all.push(...(await versionsOf(group.ModelPackageGroupName, options.signal)));
      }
      yield* all.sort(
        (left, right) => right.createdAt.getTime() - left.createdAt.getTime() || right.version - left.version,
      );
    },
  };
}
