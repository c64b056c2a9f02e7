import { deploymentSpecSchema, MlscaleError, sealDeploymentSpec, specHash } from '@mlscale/core';
import { type DeploymentRecord, recordFromTags, recordToTags } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { awsTags, maximumTagsPerResource, tagKeys } from './resource-tags.js';
import { specChunkPrefix, specFromChunkTags } from './spec-chunk-tags.js';

/**
 * The deployment record (core's `DeploymentRecord`: the desired spec, the serving spec, whether the
 * rollout was accepted, why the last change did not take) lives in the endpoint's tags, sealed, so any
 * process reads where a deployment stands from AWS alone. It is chunked into `mlscale:record-N` values
 * of 256 characters; `mlscale:chunks` says how many are current and is written in the same AddTags, so
 * a crash between that AddTags and the DeleteTags of chunks no longer needed leaves a readable record.
 */
const chunkLength = 256;

/** An endpoint as the record store sees it: its ARN, its tags now, and the record they hold. */
export interface RecordedEndpoint {
  arn: string;
  /** The endpoint's tags, kept current by `saveRecord`. */
  tags: Record<string, string>;
  record: DeploymentRecord;
}

/** Tags the adapter of an earlier version kept on endpoints, the whole spec among them (secrets too). */
const legacyChunk = new RegExp(`^${specChunkPrefix}\\d+$`);
const legacyKeys = new Set(['mlscale:spec-hash', 'mlscale:endpoint-config', 'mlscale:retired-configs']);

function isRecordChunk(key: string): boolean {
  return (
    key.startsWith(tagKeys.recordChunkPrefix) && /^\d+$/.test(key.slice(tagKeys.recordChunkPrefix.length))
  );
}

/**
 * The record in an endpoint's tags, or undefined when the endpoint is not deployment `name` of mlscale
 * (no `mlscale:deployment` tag naming it, or no readable record). An endpoint an earlier version of this
 * adapter made (the spec in `mlscale:spec-N` tags) reads as converged on that spec, sealed; the first
 * save replaces those tags.
 */
export function readRecord(
  name: string,
  tags: Readonly<Record<string, string>>,
  modifiedAt: Date | undefined,
): DeploymentRecord | undefined {
  if (tags[tagKeys.deployment] !== name) return undefined;
  const count = Number(tags[tagKeys.recordChunks]);
  if (Number.isInteger(count) && count > 0) {
    const current: Record<string, string> = {};
    for (let index = 0; index < count; index++) {
      const key = `${tagKeys.recordChunkPrefix}${index}`;
      if (tags[key] !== undefined) current[key] = tags[key];
    }
    return recordFromTags(current, tagKeys.recordChunkPrefix);
  }
  return legacyRecord(tags, modifiedAt);
}

function legacyRecord(
  tags: Readonly<Record<string, string>>,
  modifiedAt: Date | undefined,
): DeploymentRecord | undefined {
  if (tags[`${specChunkPrefix}0`] === undefined) return undefined;
  const parsed = specFromChunkTags(tags);
  const spec = deploymentSpecSchema.safeParse(parsed);
  if (!spec.success) return undefined;
  const sealed = sealDeploymentSpec(spec.data);
  const hash = specHash(sealed);
  return {
    desired: sealed,
    desiredHash: hash,
    requestedAt: modifiedAt ?? new Date(0),
    serving: sealed,
    servingHash: hash,
  };
}

/**
 * The endpoint's mlscale tags for `record`: the owner, the chunk count, the chunks, and the desired
 * spec's user tags. The record must leave room for the user's tags (of the desired and the serving
 * spec, which may both be on the endpoint while a change converges) within SageMaker's 50 tags.
 */
export function recordTags(name: string, record: DeploymentRecord): Record<string, string> {
  const userKeys = new Set([
    ...Object.keys(record.desired.tags ?? {}),
    ...Object.keys(record.serving?.tags ?? {}),
  ]);
  const maxChunks = maximumTagsPerResource - 2 - userKeys.size;
  let chunks: Record<string, string>;
  try {
    chunks = recordToTags(record, { prefix: tagKeys.recordChunkPrefix, valueLength: chunkLength, maxChunks });
  } catch (error) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `Deployment '${name}': ${error instanceof Error ? error.message : String(error)} SageMaker allows ${maximumTagsPerResource} tags per endpoint; ${userKeys.size} are the deployment's own tags and 2 are mlscale's, which leaves ${maxChunks} for the record.`,
      issues: [
        { path: 'tags', message: 'too many tags, or too large a spec, for the SageMaker endpoint to record' },
      ],
    });
  }
  return {
    ...(record.desired.tags ?? {}),
    [tagKeys.deployment]: name,
    [tagKeys.recordChunks]: String(Object.keys(chunks).length),
    ...chunks,
  };
}

/**
 * Tags on the endpoint that `next` makes stale: record chunks past its count, the earlier adapter's
 * spec tags, and user tags an earlier record put there that the new desired spec no longer has.
 */
export function staleTagKeys(
  tags: Readonly<Record<string, string>>,
  next: Readonly<Record<string, string>>,
  previous: DeploymentRecord | undefined,
): string[] {
  const previousUserKeys = new Set([
    ...Object.keys(previous?.desired.tags ?? {}),
    ...Object.keys(previous?.serving?.tags ?? {}),
  ]);
  return Object.keys(tags).filter(
    (key) =>
      !(key in next) &&
      (isRecordChunk(key) || legacyChunk.test(key) || legacyKeys.has(key) || previousUserKeys.has(key)),
  );
}

/**
 * Writes `record` to the endpoint: one AddTags with the tags that change (none: no request), then a
 * best-effort DeleteTags of what became stale (the record reads correctly without it; the next save or
 * reconcile removes what is left). Safe to repeat.
 */
export async function saveRecord(
  context: AdapterContext,
  endpoint: RecordedEndpoint,
  record: DeploymentRecord,
  signal: AbortSignal | undefined,
): Promise<void> {
  const name = endpoint.tags[tagKeys.deployment] ?? record.desired.name;
  const next = recordTags(name, record);
  const changed = Object.fromEntries(
    Object.entries(next).filter(([key, value]) => endpoint.tags[key] !== value),
  );
  if (Object.keys(changed).length > 0) {
    await context.aws.call(
      'sageMaker',
      'AddTags',
      ({ module, client }, abortSignal) =>
        client.send(new module.AddTagsCommand({ ResourceArn: endpoint.arn, Tags: awsTags(changed) }), {
          abortSignal,
        }),
      signal,
    );
    Object.assign(endpoint.tags, changed);
  }
  const previous = endpoint.record;
  endpoint.record = record;
  await removeStaleTags(context, endpoint, staleTagKeys(endpoint.tags, next, previous), signal);
}

/** Deletes stale tags, best effort: an abort is thrown, any other failure left for the next save. */
export async function removeStaleTags(
  context: AdapterContext,
  endpoint: RecordedEndpoint,
  keys: string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  if (keys.length === 0) return;
  try {
    await context.aws.call(
      'sageMaker',
      'DeleteTags',
      ({ module, client }, abortSignal) =>
        client.send(new module.DeleteTagsCommand({ ResourceArn: endpoint.arn, TagKeys: keys }), {
          abortSignal,
        }),
      signal,
    );
    for (const key of keys) delete endpoint.tags[key];
  } catch (error) {
    if (MlscaleError.hasCode(error, 'Aborted')) throw error;
  }
}

/** Stale tags left on the endpoint by an earlier save that could not remove them. */
export function leftoverTagKeys(endpoint: RecordedEndpoint): string[] {
  return staleTagKeys(endpoint.tags, recordTags(endpoint.record.desired.name, endpoint.record), undefined);
}
