import type { ModelReference } from '@mlscale/core';

/** Tags mlscale puts on what it creates, so a repeated or interrupted call finds and converges them. */
export const tagNames = {
  managedBy: 'mlscale-managed-by',
  specHash: 'mlscale-spec-hash',
  model: 'mlscale-model',
  sha256: 'mlscale-sha256',
} as const;

/** The managed-by tag's value. */
export const managedByValue = 'mlscale';

/** Endpoint and job `properties` keys that hold what mlscale needs back. */
export const propertyNames = {
  spec: 'mlscale.spec',
  sizeBytes: 'mlscale.size-bytes',
  metadata: 'mlscale.metadata',
  lineage: 'mlscale.lineage',
  baseline: 'mlscale.baseline',
  format: 'mlscale.format',
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

/** The autoscale setting of one deployment. */
export function autoscaleSettingName(endpoint: string, deployment: string): string {
  return `mlscale-${endpoint}-${deployment}`;
}

/** A short label for a model reference, for messages. */
export function describeModel(model: ModelReference): string {
  return 'uri' in model ? model.uri : `${model.name}@${model.version}`;
}
