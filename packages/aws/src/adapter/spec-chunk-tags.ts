import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalJson, MlscaleError } from '@mlscale/core';
import type { AwsTag } from './resource-tags.js';

/**
 * A spec in tags: gzip, base64url (all characters SageMaker tag values allow), split in 256-character
 * values `mlscale:spec-0`, `mlscale:spec-1`, ... What training jobs carry (sealed), and what endpoints
 * of earlier versions of this adapter carried (the deployment record replaced it).
 */
export const specChunkPrefix = 'mlscale:spec-';

/** SageMaker tag values are at most 256 characters. */
const chunkLength = 256;
/** SageMaker allows 50 tags per resource; keep room for the user's own. */
const maximumChunks = 30;

export function specChunkTags(spec: unknown): AwsTag[] {
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
    Key: `${specChunkPrefix}${index}`,
    Value: encoded.slice(index * chunkLength, (index + 1) * chunkLength),
  }));
}

/** The spec `specChunkTags` wrote, or undefined when the tags hold none (or a damaged one). */
export function specFromChunkTags(tags: Readonly<Record<string, string>>): unknown {
  const parts: string[] = [];
  for (let index = 0; tags[`${specChunkPrefix}${index}`] !== undefined; index++)
    parts.push(tags[`${specChunkPrefix}${index}`]!);
  if (parts.length === 0) return undefined;
  try {
    return JSON.parse(gunzipSync(Buffer.from(parts.join(''), 'base64url')).toString('utf8'));
  } catch {
    return undefined;
  }
}
