import { isSecretField, sealedValuePrefix } from '@mlscale/core';
import type { VertexSettings } from './settings.js';

/** Label keys the adapter puts on what it creates, so it can find them again by name. */
export const labelKeys = {
  managed: 'mlscale-managed',
  deployment: 'mlscale-deployment',
  model: 'mlscale-model',
  job: 'mlscale-job',
  alert: 'mlscale-alert',
} as const;

/** `projects/P/locations/L`. */
export function locationName(settings: VertexSettings): string {
  return `projects/${settings.project}/locations/${settings.location}`;
}

/**
 * The endpoint id of a deployment: `mlscale-<name>`. Deployment names are DNS labels of at most 32
 * characters, so this is always an id CreateEndpoint accepts (a letter first, `[a-z0-9-]`, at most 63),
 * and a repeated create of the same deployment names the same endpoint instead of making a second.
 */
export function endpointId(deployment: string): string {
  return `mlscale-${deployment}`;
}

/** `projects/P/locations/L/endpoints/mlscale-<name>`. */
export function endpointName(settings: VertexSettings, deployment: string): string {
  return `${locationName(settings)}/endpoints/${endpointId(deployment)}`;
}

/** `projects/P/locations/L/models/<id>`. */
export function modelName(settings: VertexSettings, modelId: string): string {
  return `${locationName(settings)}/models/${modelId}`;
}

/** An AIP-160 filter on one label. */
export function labelFilter(key: string, value: string): string {
  return `labels.${key}="${value}"`;
}

/** The last path segment of a resource name. */
export function resourceId(name: string): string {
  return name.split('/').at(-1) ?? name;
}

/**
 * Tags as GCP labels: `:` (allowed in mlscale tag keys) is not allowed in label keys, so it becomes `_`.
 * A tag whose value is a secret (sealed, or secret by its key's name or its content) is left out: anyone
 * who may list endpoints reads labels, and a lowercased seal would tell nothing.
 */
export function tagLabels(tags: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (value.startsWith(sealedValuePrefix) || isSecretField(key, value)) continue;
    labels[key.replace(/:/g, '_')] = value.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  }
  return labels;
}
