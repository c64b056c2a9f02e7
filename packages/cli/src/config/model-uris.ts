import type { DeploymentSpec } from '@mlscale/core';

/** `s3://`, `gs://`, `file://`, …: a URI, where anything else is a path. */
export const uriScheme = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The URIs a deployment's models name (its model and each traffic entry's); registry references have none. */
export function modelUris(spec: DeploymentSpec): string[] {
  return [spec.model, ...(spec.traffic ?? []).map((entry) => entry.model)].flatMap((model) =>
    'uri' in model ? [model.uri] : [],
  );
}
