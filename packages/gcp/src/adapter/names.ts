import type { VertexSettings } from './settings.js';

/** Label keys the adapter puts on what it creates, so it can find them again by name. */
export const labelKeys = {
  managed: 'mlscale-managed',
  deployment: 'mlscale-deployment',
  model: 'mlscale-model',
  artifact: 'mlscale-artifact',
  job: 'mlscale-job',
  alert: 'mlscale-alert',
} as const;

/** `projects/P/locations/L`. */
export function locationName(settings: VertexSettings): string {
  return `projects/${settings.project}/locations/${settings.location}`;
}

/** An AIP-160 filter on one label. */
export function labelFilter(key: string, value: string): string {
  return `labels.${key}="${value}"`;
}

/** The last path segment of a resource name. */
export function resourceId(name: string): string {
  return name.split('/').at(-1) ?? name;
}

/** Tags as GCP labels: `:` (allowed in mlscale tag keys) is not allowed in label keys, so it becomes `_`. */
export function tagLabels(tags: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags ?? {}))
    labels[key.replace(/:/g, '_')] = value.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  return labels;
}
