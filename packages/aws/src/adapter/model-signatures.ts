import type { ModelReference, ModelSignature } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { artifactSignature, s3ArtifactSignature, uploadLayout } from './artifact-signatures.js';
import { describeEndpoint, observeDeployment } from './deployment-observation.js';
import { variantModels } from './deployment-requests.js';
import { describeEndpointConfig } from './deployment-resources.js';
import { modelVersionFrom, readModelPackage, recordedSignature } from './model-registry-operations.js';

/*
 * Model signatures for the client's signature gate (`doResolveSignature`):
 * - an artifact: a local ONNX file (or a folder with one) is read; an S3 `.onnx` object is read (up to
 *   256 MiB); a `model.tar.gz` the adapter uploaded has its signature in `signature.json` beside it;
 * - a registered version: the signature recorded at registration (CustomerMetadataProperties), else
 *   its artifact's;
 * - a deployment: the model of the variant taking the most traffic in the endpoint config in force,
 *   by its model data in S3, else (a registered model) what its registration recorded.
 * Anything else (an archive the adapter did not make) is unknown: the gate then warns and lets it pass.
 */

/** The signature of a model a deployment would serve; undefined when it cannot be told. */
export async function modelSignature(
  context: AdapterContext,
  model: ModelReference,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const layout = uploadLayout(context.settings);
  if ('uri' in model) return artifactSignature(context.aws, layout, model.uri, signal);
  const described = await readModelPackage(
    context,
    model.name,
    model.version === 'latest' ? undefined : model.version,
    signal,
  );
  if (!described) return undefined;
  return (
    recordedSignature(described) ??
    s3ArtifactSignature(context.aws, layout, modelVersionFrom(described).uri, signal)
  );
}

/** The model data URL of the variant with the most traffic in the endpoint's config in force. */
async function servedModel(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<{ url: string; variantIndex: number } | undefined> {
  const endpoint = await describeEndpoint(context, name, signal);
  if (!endpoint?.EndpointConfigName) return undefined;
  const config = await describeEndpointConfig(context, endpoint.EndpointConfigName, signal);
  const variants = config?.ProductionVariants ?? [];
  const heaviest = variants.reduce<number>(
    (best, variant, index) =>
      (variant.InitialVariantWeight ?? 1) > (variants[best]?.InitialVariantWeight ?? 1) ? index : best,
    0,
  );
  const modelName = variants[heaviest]?.ModelName;
  if (!modelName) return undefined;
  const model = await context.aws.find(
    'sageMaker',
    'DescribeModel',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeModelCommand({ ModelName: modelName }), { abortSignal }),
    signal,
  );
  const container = model?.PrimaryContainer ?? model?.Containers?.[0];
  const url = container?.ModelDataUrl ?? container?.ModelDataSource?.S3DataSource?.S3Uri;
  return url ? { url, variantIndex: heaviest } : undefined;
}

/** The signature of what deployment `name` serves now; undefined when it cannot be told. */
export async function servingSignature(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<ModelSignature | undefined> {
  const served = await servedModel(context, name, signal);
  if (!served) return undefined;
  const fromArtifact = await s3ArtifactSignature(
    context.aws,
    uploadLayout(context.settings),
    served.url,
    signal,
  );
  if (fromArtifact) return fromArtifact;
  // A registered model whose artifact says nothing: what its registration recorded, if the version
  // the recorded spec names is the one whose model data the endpoint runs.
  const reading = await observeDeployment(context, name, signal);
  if (reading.kind !== 'managed') return undefined;
  const { record } = reading.observation;
  const model = variantModels(record.serving ?? record.desired)[served.variantIndex]?.model;
  if (!model || 'uri' in model) return undefined;
  const described = await readModelPackage(
    context,
    model.name,
    model.version === 'latest' ? undefined : model.version,
    signal,
  );
  if (!described || modelVersionFrom(described).uri !== served.url) return undefined;
  return recordedSignature(described);
}
