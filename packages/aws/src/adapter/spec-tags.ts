import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalJson, MlscaleError } from '@mlscale/core';

/** Tag keys mlscale puts on what it creates. */
export const tagKeys = {
  deployment: 'mlscale:deployment',
  trainingJob: 'mlscale:training-job',
  specHash: 'mlscale:spec-hash',
  /** Chunks of the gzipped, base64url spec: `mlscale:spec-0`, `mlscale:spec-1`, ... */
  specChunkPrefix: 'mlscale:spec-',
  /** The endpoint config the recorded spec runs on; another one in force means SageMaker rolled back. */
  endpointConfig: 'mlscale:endpoint-config',
  /** Endpoint configs an update or rollback left unused, to delete once the endpoint is InService. */
  retiredConfigs: 'mlscale:retired-configs',
} as const;

/** SageMaker tag values are at most 256 characters. */
const chunkLength = 256;
/** SageMaker allows 50 tags per resource; keep room for the user's own. */
const maximumChunks = 30;

export interface AwsTag {
  Key: string;
  Value: string;
}

/**
 * The spec as tags, so the deployment's spec can be read back from AWS alone (no local state): gzip,
 * base64url (all characters SageMaker tag values allow), split in 256-character values.
 */
export function specTags(spec: unknown): AwsTag[] {
  const encoded = gzipSync(Buffer.from(canonicalJson(spec))).toString('base64url');
  const chunks = Math.ceil(encoded.length / chunkLength);
  if (chunks > maximumChunks) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `The spec is too large to record in SageMaker tags (${encoded.length} compressed characters; the limit is ${maximumChunks * chunkLength}). Shorten environment values or tags.`,
    });
  }
  return Array.from({ length: chunks }, (_, index) => ({
    Key: `${tagKeys.specChunkPrefix}${index}`,
    Value: encoded.slice(index * chunkLength, (index + 1) * chunkLength),
  }));
}

/** The spec recorded by `specTags`, or undefined when the tags hold none (or a damaged one). */
export function specFromTags(tags: Record<string, string>): unknown {
  const parts: string[] = [];
  for (let index = 0; ; index++) {
    const part = tags[`${tagKeys.specChunkPrefix}${index}`];
    if (part === undefined) break;
    parts.push(part);
  }
  if (parts.length === 0) return undefined;
  try {
    return JSON.parse(gunzipSync(Buffer.from(parts.join(''), 'base64url')).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Tag keys of spec chunks in `tags` beyond what `next` holds (to delete after an update). */
export function staleSpecChunkKeys(tags: Record<string, string>, next: AwsTag[]): string[] {
  const keep = new Set(next.map((tag) => tag.Key));
  return Object.keys(tags).filter((key) => key.startsWith(tagKeys.specChunkPrefix) && !keep.has(key));
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
