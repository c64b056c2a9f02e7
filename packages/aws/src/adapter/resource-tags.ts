import type { DeploymentSpec } from '@mlscale/core';

/** Tag keys mlscale puts on what it creates. */
export const tagKeys = {
  /** The deployment (or, on a job, nothing: see `trainingJob`) a resource belongs to. */
  deployment: 'mlscale:deployment',
  trainingJob: 'mlscale:training-job',
  /** On endpoint configs and models: the hash of the sealed spec they were made for. */
  specHash: 'mlscale:spec-hash',
  /** On endpoint configs and models: the hash of the fleet they run (`fleetHash`), which their names carry. */
  fleetHash: 'mlscale:fleet-hash',
  /**
   * On the endpoint: chunks of the deployment record, `mlscale:record-GENERATION-0`, `-1`, ... (each
   * save writes a new generation; endpoints of earlier versions have `mlscale:record-0`, ...).
   */
  recordChunkPrefix: 'mlscale:record-',
  /**
   * On the endpoint: which record chunks are current, `COUNT@GENERATION` (written with them, in the same
   * AddTags; a plain `COUNT` on endpoints of earlier versions).
   */
  recordChunks: 'mlscale:chunks',
} as const;

/** SageMaker allows 50 tags per resource. */
export const maximumTagsPerResource = 50;

export interface AwsTag {
  Key: string;
  Value: string;
}

/** The user's tags as AWS tags. */
export function userTags(tags: Record<string, string> | undefined): AwsTag[] {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

/** AWS tag lists as a record. */
export function tagRecord(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key) result[tag.Key] = tag.Value ?? '';
  return result;
}

/** A record as AWS tags. */
export function awsTags(tags: Readonly<Record<string, string>>): AwsTag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The tags of an endpoint config or model: whose it is, the sealed spec it was made for, the fleet it
 * runs, and the user's tags. Never the spec itself: a model's environment is in its container only.
 */
export function resourceTags(sealed: DeploymentSpec, sealedHash: string, fleet: string): AwsTag[] {
  return [
    { Key: tagKeys.deployment, Value: sealed.name },
    { Key: tagKeys.specHash, Value: sealedHash },
    { Key: tagKeys.fleetHash, Value: fleet },
    ...userTags(sealed.tags),
  ];
}
