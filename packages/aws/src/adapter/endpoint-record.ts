import { randomBytes } from 'node:crypto';
import { deploymentSpecSchema, MlscaleError, sealDeploymentSpec, specHash } from '@mlscale/core';
import {
  type DeploymentRecord,
  encodeDeploymentRecord,
  recordFromTags,
  recordToTags,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { awsTags, maximumTagsPerResource, tagKeys } from './resource-tags.js';
import { specChunkPrefix, specFromChunkTags } from './spec-chunk-tags.js';

/**
 * The deployment record (core's `DeploymentRecord`: the desired spec, the serving spec, whether the
 * rollout was accepted, why the last change did not take) lives in the endpoint's tags, sealed, so any
 * process reads where a deployment stands from AWS alone. It is chunked into 256-character values
 * `mlscale:record-GENERATION-N`; `mlscale:chunks` (`COUNT@GENERATION`) names the current ones.
 *
 * Tags have no conditional writes, and two processes may save at once (a doUpdate while another
 * process's waiter records markStarted). So a save never edits a record in place: it writes a new
 * generation, every chunk and the pointer in ONE AddTags (the last AddTags wins, whole). Chunks are
 * deleted only once a pointer no longer names them, and only those seen so: a generation is random and
 * written once, so a chunk that was stale when read can never be current again, and a delete, however
 * late, cannot hit a live chunk. The price is room: the generation a save replaces stays beside the new
 * one, so a record may take half of the tags the user's own leave.
 */
const chunkLength = 256;

/** An endpoint as the record store sees it: its ARN, its tags now, and the record they hold. */
export interface RecordedEndpoint {
  arn: string;
  /** The endpoint's tags, kept current by `saveRecord`. */
  tags: Record<string, string>;
  /** The record read from them; absent when they hold none that decodes (a damaged record). */
  record?: DeploymentRecord | undefined;
}

/** What an endpoint's tags say about deployment `name`. */
export type RecordReading =
  | { kind: 'none' }
  | { kind: 'record'; record: DeploymentRecord }
  /** Tagged `mlscale:deployment=name`, but no record decodes from its tags: why, in words. */
  | { kind: 'damaged'; reason: string };

/** Tags the adapter of an earlier version kept on endpoints, the whole spec among them (secrets too). */
const legacyChunk = new RegExp(`^${specChunkPrefix}\\d+$`);
const legacyKeys = new Set(['mlscale:spec-hash', 'mlscale:endpoint-config', 'mlscale:retired-configs']);
/** `mlscale:record-GENERATION-N`, or an earlier version's `mlscale:record-N`. */
const chunkKey = new RegExp(`^${tagKeys.recordChunkPrefix}(?:([0-9a-z]+)-)?(\\d+)$`);
/** `COUNT@GENERATION`, or an earlier version's plain `COUNT`. */
const pointerValue = /^(\d+)(?:@([0-9a-z]+))?$/;

function isRecordChunk(key: string): boolean {
  return chunkKey.test(key);
}

/** A fresh generation: random, so two processes saving from the same read never share chunk keys. */
function newGeneration(): string {
  return randomBytes(4).toString('hex');
}

function chunkPrefix(generation: string | undefined): string {
  return generation ? `${tagKeys.recordChunkPrefix}${generation}-` : tagKeys.recordChunkPrefix;
}

/** The chunk keys `mlscale:chunks` names as current, or undefined when it names none. */
function currentChunkKeys(tags: Readonly<Record<string, string>>): string[] | undefined {
  const pointer = pointerValue.exec(tags[tagKeys.recordChunks] ?? '');
  const count = Number(pointer?.[1]);
  if (!pointer || !Number.isInteger(count) || count < 1) return undefined;
  const prefix = chunkPrefix(pointer[2]);
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`);
}

/**
 * What the endpoint's tags hold for deployment `name`: nothing (no `mlscale:deployment` tag naming it:
 * not mlscale's), its record, or a damaged one (named for it, but nothing decodes). An endpoint an
 * earlier version of this adapter made (the spec in `mlscale:spec-N` tags) reads as converged on that
 * spec, sealed; the first save replaces those tags.
 */
export function readRecordTags(
  name: string,
  tags: Readonly<Record<string, string>>,
  modifiedAt: Date | undefined,
): RecordReading {
  if (tags[tagKeys.deployment] !== name) return { kind: 'none' };
  const keys = currentChunkKeys(tags);
  if (keys) {
    const missing = keys.filter((key) => tags[key] === undefined);
    if (missing.length > 0)
      return {
        kind: 'damaged',
        reason: `${missing.length} of the ${keys.length} record chunks that ${tagKeys.recordChunks} names are missing`,
      };
    const prefix = keys[0]!.slice(0, -1);
    const record = recordFromTags(Object.fromEntries(keys.map((key) => [key, tags[key]])), prefix);
    return record
      ? { kind: 'record', record }
      : { kind: 'damaged', reason: 'its record chunks do not decode to a deployment record' };
  }
  if (tags[tagKeys.recordChunks] !== undefined)
    return { kind: 'damaged', reason: `its ${tagKeys.recordChunks} tag is not a chunk count` };
  const legacy = legacyRecord(tags, modifiedAt);
  if (legacy) return { kind: 'record', record: legacy };
  return {
    kind: 'damaged',
    reason:
      tags[`${specChunkPrefix}0`] === undefined
        ? 'it has no record tags'
        : 'the spec tags an earlier mlscale version wrote do not decode',
  };
}

/** The record in an endpoint's tags for deployment `name`, or undefined when there is none (or it is damaged). */
export function readRecord(
  name: string,
  tags: Readonly<Record<string, string>>,
  modifiedAt: Date | undefined,
): DeploymentRecord | undefined {
  const reading = readRecordTags(name, tags, modifiedAt);
  return reading.kind === 'record' ? reading.record : undefined;
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
 * The endpoint's mlscale tags for `record`, as one save writes them: the owner, the pointer to a new
 * generation of chunks, the chunks, and the desired spec's user tags. The record must leave room for
 * the user's tags (of the desired and the serving spec, which may both be on the endpoint while a
 * change converges) within SageMaker's 50 tags, and for the generation it replaces.
 */
export function recordTags(
  name: string,
  record: DeploymentRecord,
  generation: string = newGeneration(),
): Record<string, string> {
  const userKeys = new Set([
    ...Object.keys(record.desired.tags ?? {}),
    ...Object.keys(record.serving?.tags ?? {}),
  ]);
  const free = maximumTagsPerResource - 2 - userKeys.size;
  // The new generation is written while the one it replaces is still there.
  const maxChunks = Math.floor(free / 2);
  let chunks: Record<string, string>;
  try {
    chunks = recordToTags(record, { prefix: chunkPrefix(generation), valueLength: chunkLength, maxChunks });
  } catch (error) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `Deployment '${name}': ${error instanceof Error ? error.message : String(error)} SageMaker allows ${maximumTagsPerResource} tags per endpoint; ${userKeys.size} are the deployment's own tags and 2 are mlscale's, and a save writes the new record beside the old one before deleting it, which leaves ${Math.max(0, maxChunks)} for the record.`,
      issues: [
        { path: 'tags', message: 'too many tags, or too large a spec, for the SageMaker endpoint to record' },
      ],
    });
  }
  return {
    ...(record.desired.tags ?? {}),
    [tagKeys.deployment]: name,
    [tagKeys.recordChunks]: `${Object.keys(chunks).length}@${generation}`,
    ...chunks,
  };
}

/**
 * Tags on the endpoint that `next` (the tags a save just wrote) makes stale at once: the earlier
 * adapter's spec tags (secrets among them), and user tags an earlier record put there that the new
 * desired spec no longer has. Record chunks are not among them: see `supersededChunkKeys`.
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
    (key) => !(key in next) && (legacyChunk.test(key) || legacyKeys.has(key) || previousUserKeys.has(key)),
  );
}

/**
 * Record chunks no reader will use again, as read: those of generations the pointer does not name
 * (every chunk, when the tags hold no record that decodes from a pointer), and the earlier adapter's
 * spec tags once a pointer exists. A generation is written once, so none of these can become current
 * again: deleting them is safe even from a stale read, and even while another process saves.
 */
export function supersededChunkKeys(
  tags: Readonly<Record<string, string>>,
  record: DeploymentRecord | undefined,
): string[] {
  const current = record ? currentChunkKeys(tags) : undefined;
  const live = new Set(current ?? []);
  return Object.keys(tags).filter(
    (key) =>
      (isRecordChunk(key) && !live.has(key)) ||
      (current !== undefined && (legacyChunk.test(key) || legacyKeys.has(key))),
  );
}

/** Whether the endpoint's tags already hold `record` as it would be written, user tags included. */
function holds(endpoint: RecordedEndpoint, record: DeploymentRecord): boolean {
  if (!endpoint.record || !currentChunkKeys(endpoint.tags)) return false;
  if (encodeDeploymentRecord(endpoint.record) !== encodeDeploymentRecord(record)) return false;
  return Object.entries(record.desired.tags ?? {}).every(([key, value]) => endpoint.tags[key] === value);
}

/**
 * Writes `record` to the endpoint as a new generation (nothing when the tags already hold it):
 *
 *   1. DeleteTags of the generations the endpoint's pointer no longer named when read (the previous
 *      save made them stale; `supersededChunkKeys`): room for the new one, best effort unless the
 *      AddTags would otherwise pass 50 tags;
 *   2. AddTags of every chunk, the pointer and the user's tags, in one request: the record is written;
 *   3. DeleteTags of the earlier adapter's spec tags and of user tags no spec wants, best effort.
 *
 * The generation this save replaces stays until the next save: deleting it here would add a request
 * that may fail after the record is written (a first deploy would then make one it cannot act on), and
 * leaving it costs only the room the tag budget keeps for it. Safe to repeat, and safe beside another
 * process's save: the last AddTags wins, whole.
 */
export async function saveRecord(
  context: AdapterContext,
  endpoint: RecordedEndpoint,
  record: DeploymentRecord,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (holds(endpoint, record)) return;
  const name = endpoint.tags[tagKeys.deployment] ?? record.desired.name;
  const next = recordTags(name, record);
  const superseded = supersededChunkKeys(endpoint.tags, endpoint.record);
  const crowded =
    new Set([...Object.keys(endpoint.tags), ...Object.keys(next)]).size > maximumTagsPerResource;
  // Without the room the AddTags would be refused: then the delete must succeed first.
  if (crowded) await deleteTags(context, endpoint, superseded, signal);
  else await removeStaleTags(context, endpoint, superseded, signal);
  await context.aws.call(
    'sageMaker',
    'AddTags',
    ({ module, client }, abortSignal) =>
      client.send(new module.AddTagsCommand({ ResourceArn: endpoint.arn, Tags: awsTags(next) }), {
        abortSignal,
      }),
    signal,
  );
  Object.assign(endpoint.tags, next);
  const previous = endpoint.record;
  endpoint.record = record;
  await removeStaleTags(context, endpoint, staleTagKeys(endpoint.tags, next, previous), signal);
}

/** DeleteTags of `keys` (none: no request). */
async function deleteTags(
  context: AdapterContext,
  endpoint: RecordedEndpoint,
  keys: string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  if (keys.length === 0) return;
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
}

/** Deletes stale tags, best effort: an abort is thrown, any other failure left for the next save. */
async function removeStaleTags(
  context: AdapterContext,
  endpoint: RecordedEndpoint,
  keys: string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await deleteTags(context, endpoint, keys, signal);
  } catch (error) {
    if (MlscaleError.hasCode(error, 'Aborted')) throw error;
  }
}
