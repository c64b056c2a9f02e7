import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { sealDeploymentSpec } from '../secrets/seal-secrets.js';
import { type DeploymentSpec, deploymentSpecSchema } from '../spec/deployment.js';
import { canonicalJson, specHash } from '../spec-hash.js';

/**
 * What a backend records durably about one deployment (in cloud tags, properties or labels, or the local
 * state directory), so that any process can read where the deployment stands and carry on converging
 * it: the spec asked for, the last spec that converged, and why the last change did not take. Specs are
 * recorded sealed (secrets only as keyed hashes).
 *
 * The record moves through a small state machine, the same on every backend:
 *
 *   requestSpec ──► converging (──markStarted──►) ──markConverged──► converged ──requestSpec──► ...
 *                      │                                                      │
 *                      └──abandonRequest (refused): back to the serving spec ◄┘
 *   any ──requestDeletion──► deleting
 */
export interface DeploymentRecord {
  /** The spec asked for, secrets sealed. */
  desired: DeploymentSpec;
  /** `specHash` of `desired`. */
  desiredHash: string;
  /** When `desired` was asked for. */
  requestedAt: Date;
  /** The last spec that converged, secrets sealed; absent until the first convergence. */
  serving?: DeploymentSpec;
  /** `specHash` of `serving`. */
  servingHash?: string;
  /**
   * The hash of the desired spec whose rollout the cloud has accepted (an UpdateEndpoint, a traffic
   * change): written right after the call, so a later step can tell "not sent yet" from "sent, and the
   * cloud rolled it back".
   */
  started?: string;
  /** Set once deletion has been asked for. */
  deleting?: boolean;
  /** The last change that did not take (refused by the cloud, or rolled back), and why. */
  failure?: { specHash: string; message: string; time: Date };
}

/** Where a record stands. */
export type RecordPhase = 'creating' | 'converging' | 'converged' | 'deleting';

export function recordPhase(record: DeploymentRecord): RecordPhase {
  if (record.deleting) return 'deleting';
  if (record.servingHash === undefined) return 'creating';
  return record.servingHash === record.desiredHash ? 'converged' : 'converging';
}

/**
 * Records a new desired spec (sealed here). Asking again for the spec already desired changes nothing
 * but clears the last failure, so a re-run retries what was refused; the serving spec stays until the
 * new one converges.
 */
export function requestSpec(
  current: DeploymentRecord | undefined,
  spec: DeploymentSpec,
  now: Date = new Date(),
): DeploymentRecord {
  const desired = sealDeploymentSpec(spec);
  const desiredHash = specHash(desired);
  if (current && !current.deleting && current.desiredHash === desiredHash) {
    if (!current.failure) return current;
    // Asked for again after a failure: a new request, from now.
    const { failure: _cleared, ...rest } = current;
    return { ...rest, requestedAt: now };
  }
  return {
    desired,
    desiredHash,
    requestedAt: now,
    ...(current?.serving && !current.deleting
      ? { serving: current.serving, servingHash: current.servingHash! }
      : {}),
  };
}

/** The cloud has accepted the rollout of the desired spec. */
export function markStarted(record: DeploymentRecord): DeploymentRecord {
  return { ...record, started: record.desiredHash };
}

/** Whether the rollout of the desired spec was accepted by the cloud already. */
export function rolloutStarted(record: DeploymentRecord): boolean {
  return record.started === record.desiredHash;
}

/** The desired spec now serves. */
export function markConverged(record: DeploymentRecord): DeploymentRecord {
  const { failure, started: _started, ...rest } = record;
  return {
    ...rest,
    serving: record.desired,
    servingHash: record.desiredHash,
    // A refusal of another spec stays worth reporting; one of this spec is now moot.
    ...(failure && failure.specHash !== record.desiredHash ? { failure } : {}),
  };
}

/**
 * The desired change was refused (or rolled back): the desired spec goes back to the one serving, and the
 * reason is kept for the status. A first deployment has nothing to go back to: it keeps its spec and
 * reads as Failed with the reason.
 */
export function abandonRequest(
  record: DeploymentRecord,
  message: string,
  now = new Date(),
): DeploymentRecord {
  const failure = { specHash: record.desiredHash, message, time: now };
  if (!record.serving || record.servingHash === undefined) {
    const { started: _started, ...rest } = record;
    return { ...rest, failure };
  }
  return {
    desired: record.serving,
    desiredHash: record.servingHash,
    requestedAt: now,
    serving: record.serving,
    servingHash: record.servingHash,
    failure,
  };
}

/** Deletion is asked for. */
export function requestDeletion(record: DeploymentRecord): DeploymentRecord {
  return { ...record, deleting: true };
}

/** The first characters of a spec hash, as statuses and messages show it. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

const dateSchema = z
  .union([z.string(), z.number()])
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), 'expected a date');
const storedRecordSchema = z.object({
  v: z.literal(1),
  desired: z.unknown(),
  requestedAt: dateSchema,
  /** Absent when it is the desired spec, or when nothing has converged yet (see `servingIsDesired`). */
  serving: z.unknown().optional(),
  servingIsDesired: z.boolean().optional(),
  started: z.string().optional(),
  deleting: z.boolean().optional(),
  failure: z.object({ specHash: z.string(), message: z.string(), time: dateSchema }).optional(),
});

/**
 * The record as plain JSON: what the codecs below compress, and what a backend that stores files (the
 * local state directory) can write as it is, readable with `cat`. The serving spec is left out when it is
 * the desired one.
 */
export function deploymentRecordToJson(record: DeploymentRecord): Record<string, unknown> {
  const servingIsDesired = record.servingHash === record.desiredHash;
  return {
    v: 1,
    desired: record.desired,
    requestedAt: record.requestedAt.toISOString(),
    ...(record.serving && !servingIsDesired ? { serving: record.serving } : {}),
    ...(servingIsDesired ? { servingIsDesired: true } : {}),
    ...(record.started ? { started: record.started } : {}),
    ...(record.deleting ? { deleting: true } : {}),
    ...(record.failure ? { failure: { ...record.failure, time: record.failure.time.toISOString() } } : {}),
  };
}

/** The record `deploymentRecordToJson` wrote, or why it cannot be read back. */
export function deploymentRecordFromJson(json: unknown): { record: DeploymentRecord } | { problem: string } {
  const stored = storedRecordSchema.safeParse(json);
  if (!stored.success) return { problem: stored.error.issues[0]?.message ?? 'not a deployment record' };
  const desired = deploymentSpecSchema.safeParse(stored.data.desired);
  if (!desired.success) return { problem: 'its desired spec does not parse' };
  const serving = stored.data.servingIsDesired
    ? desired
    : stored.data.serving === undefined
      ? undefined
      : deploymentSpecSchema.safeParse(stored.data.serving);
  if (serving && !serving.success) return { problem: 'its serving spec does not parse' };
  return {
    record: {
      desired: desired.data,
      desiredHash: specHash(desired.data),
      requestedAt: stored.data.requestedAt,
      ...(serving?.success ? { serving: serving.data, servingHash: specHash(serving.data) } : {}),
      ...(stored.data.started ? { started: stored.data.started } : {}),
      ...(stored.data.deleting ? { deleting: true } : {}),
      ...(stored.data.failure ? { failure: stored.data.failure } : {}),
    },
  };
}

/** The record as compact text (gzipped canonical JSON, base64url): what tags and labels can carry. */
export function encodeDeploymentRecord(record: DeploymentRecord): string {
  return gzipSync(Buffer.from(canonicalJson(deploymentRecordToJson(record)))).toString('base64url');
}

/** The record `encodeDeploymentRecord` wrote, or undefined when the text is not one (damaged, foreign). */
export function decodeDeploymentRecord(text: string): DeploymentRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(text, 'base64url')).toString('utf8'));
  } catch {
    return undefined;
  }
  const decoded = deploymentRecordFromJson(parsed);
  return 'record' in decoded ? decoded.record : undefined;
}

/** How a record is spread over tags or labels. */
export interface RecordTagLayout {
  /** Key of chunk `i` is `${prefix}${i}`. */
  prefix: string;
  /** Most characters in one value (SageMaker and Azure: 256). */
  valueLength: number;
  /** Most chunks the record may take. */
  maxChunks: number;
}

/** The record as chunked tag values: `{ [prefix + i]: chunk }`. Throws when it does not fit. */
export function recordToTags(record: DeploymentRecord, layout: RecordTagLayout): Record<string, string> {
  const text = encodeDeploymentRecord(record);
  const chunks = Math.ceil(text.length / layout.valueLength);
  if (chunks > layout.maxChunks) {
    throw new RangeError(
      `The deployment's record takes ${text.length} characters; its tags hold ${layout.maxChunks * layout.valueLength}. Shorten environment values, tags or provider options.`,
    );
  }
  const tags: Record<string, string> = {};
  for (let index = 0; index < chunks; index++) {
    tags[`${layout.prefix}${index}`] = text.slice(
      index * layout.valueLength,
      (index + 1) * layout.valueLength,
    );
  }
  return tags;
}

/** The record `recordToTags` spread over `tags`, or undefined when there is none (or it is damaged). */
export function recordFromTags(
  tags: Readonly<Record<string, string | undefined>>,
  prefix: string,
): DeploymentRecord | undefined {
  const parts: string[] = [];
  for (let index = 0; ; index++) {
    const part = tags[`${prefix}${index}`];
    if (part === undefined) break;
    parts.push(part);
  }
  return parts.length === 0 ? undefined : decodeDeploymentRecord(parts.join(''));
}

/** Keys of record chunks in `tags` that `next` no longer has (to delete after writing `next`). */
export function staleRecordTagKeys(
  tags: Readonly<Record<string, string | undefined>>,
  next: Readonly<Record<string, string>>,
  prefix: string,
): string[] {
  return Object.keys(tags).filter((key) => key.startsWith(prefix) && !(key in next));
}
