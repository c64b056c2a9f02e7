import type { ModelReference } from '@mlscale/core';

/** Tags mlscale puts on what it creates, so a repeated or interrupted call finds and converges them. */
export const tagNames = {
  managedBy: 'mlscale-managed-by',
  /** On training jobs: the hash of the job's spec. */
  specHash: 'mlscale-spec-hash',
  model: 'mlscale-model',
  sha256: 'mlscale-sha256',
  /** On a deployment: which model reference of the spec it serves (`modelReferenceKey`). */
  modelReference: 'mlscale-model-ref',
  /** On model and environment versions registered for an endpoint: the endpoint's name. */
  endpoint: 'mlscale-endpoint',
} as const;

/**
 * The endpoint tags the deployment record is chunked into: `mlscale-record-0`, `-1`, ... (ARM tag names
 * may not hold `< > % & \ ? /`; values hold 256 characters).
 */
export const recordTagPrefix = 'mlscale-record-';

/** The managed-by tag's value. */
export const managedByValue = 'mlscale';

/**
 * `properties` keys mlscale writes. An endpoint's properties can be added but never removed or altered,
 * so the endpoint gets only `createdBy`, once, at creation; jobs and model versions hold the rest.
 */
export const propertyNames = {
  createdBy: 'mlscale.created-by',
  spec: 'mlscale.spec',
  sizeBytes: 'mlscale.size-bytes',
  metadata: 'mlscale.metadata',
  lineage: 'mlscale.lineage',
  baseline: 'mlscale.baseline',
  format: 'mlscale.format',
  /** The model's inputs and outputs (JSON), read from its ONNX file when mlscale uploaded it. */
  signature: 'mlscale.signature',
} as const;

/**
 * The Azure deployment that serves one model version under an endpoint: `{model}-v{version}`, so the
 * same version always lands on the same deployment (a repeated deploy converges) and a new version gets a
 * new one beside it (blue/green). Azure allows 32 characters.
 */
export function deploymentNameFor(modelName: string, version: string): string {
  const suffix = `-v${version.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`;
  const base = modelName.slice(0, 32 - suffix.length).replace(/-+$/, '');
  return `${base}${suffix}`;
}

/** The environment holding the server image for one endpoint's deployments. */
export function serverEnvironmentName(endpoint: string): string {
  return `mlscale-server-${endpoint}`;
}

/** The autoscale setting of one deployment. */
export function autoscaleSettingName(endpoint: string, deployment: string): string {
  return `mlscale-${endpoint}-${deployment}`;
}

/** A short label for a model reference, for messages. */
export function describeModel(model: ModelReference): string {
  return 'uri' in model ? model.uri : `${model.name}@${model.version}`;
}
