import type { DeploymentSpec } from '@mlscale/core';
import {
  type DeploymentRecord,
  decodeDeploymentRecord,
  encodeDeploymentRecord,
} from '@mlscale/core/provider-utils';
import { z } from 'zod';
import type { IEndpoint } from './endpoint-calls.js';
import { labelKeys, tagLabels } from './names.js';

/**
 * Where a deployment's state lives: its endpoint's description holds the record (core's
 * `DeploymentRecord`, sealed specs, gzipped) and, while a change is in flight, that change's progress.
 * Labels cannot: Vertex allows 64 of them with values of at most 64 lowercase characters, and a record
 * takes hundreds. Description and labels are written together, with one UpdateEndpoint.
 */

const recordPrefix = 'mlscale deployment record v1: ';
const progressPrefix = 'mlscale change progress: ';

/** How far a traffic rollout has gone. */
export interface RolloutProgress {
  /** The step reached: percent of the new version's final share that it has now. */
  step: number;
  /** When traffic moved to that step (ISO time): the step's health is judged from then on. */
  since: string;
  /** The split the rollout started from, by deployed-model id. */
  from: Record<string, number>;
}

/**
 * Where the change to the record's desired spec stands, for the next step (in any process) to carry on
 * from: when it was asked for (operations created since then are its own, and their failures refuse
 * it), and the traffic rollout's progress. Written with the request, and with each traffic move.
 */
export interface ChangeProgress {
  /** The desired spec's hash this progress belongs to; any other spec's progress is stale. */
  spec: string;
  /**
   * When the change was asked for, by Vertex's clock (ISO time): the newest time Vertex had shown for
   * the deployment (the endpoint's update_time, its and its models' operations' create_time). An
   * operation created after it is the change's own; this machine's clock plays no part, so a skewed
   * clock neither hides the change's failures nor blames it for earlier ones. Absent for a new
   * deployment, whose endpoint's create_time stands for it.
   */
  since?: string;
  rollout?: RolloutProgress;
  /** Why removing what the change replaced was last refused (retried by each step). */
  cleanupRefused?: string;
}

const progressSchema = z.object({
  spec: z.string(),
  since: z.string().optional(),
  rollout: z
    .object({ step: z.number(), since: z.string(), from: z.record(z.string(), z.number()) })
    .optional(),
  cleanupRefused: z.string().optional(),
});

/** The record and the progress of its desired spec, as the description keeps them. */
export interface StoredDeployment {
  record: DeploymentRecord;
  /** Progress of `record.desired`'s change, if one is in flight. */
  progress: ChangeProgress | undefined;
}

/** The description that records `record` (and the change's `progress`, when it is the desired spec's). */
export function describeDeployment(record: DeploymentRecord, progress?: ChangeProgress): string {
  const lines = [`${recordPrefix}${encodeDeploymentRecord(record)}`];
  if (progress && progress.spec === record.desiredHash) {
    lines.push(`${progressPrefix}${Buffer.from(JSON.stringify(progress)).toString('base64url')}`);
  }
  return lines.join('\n');
}

/** The record an endpoint keeps, or undefined for an endpoint mlscale did not write (or a damaged one). */
export function readDeployment(endpoint: IEndpoint): StoredDeployment | undefined {
  const lines = (endpoint.description ?? '').split('\n');
  const recordLine = lines.find((line) => line.startsWith(recordPrefix));
  const record = recordLine ? decodeDeploymentRecord(recordLine.slice(recordPrefix.length)) : undefined;
  if (!record) return undefined;
  const progressLine = lines.find((line) => line.startsWith(progressPrefix));
  return { record, progress: progressLine ? parseProgress(progressLine, record.desiredHash) : undefined };
}

function parseProgress(line: string, desiredHash: string): ChangeProgress | undefined {
  try {
    const parsed = progressSchema.safeParse(
      JSON.parse(Buffer.from(line.slice(progressPrefix.length), 'base64url').toString('utf8')),
    );
    if (!parsed.success || parsed.data.spec !== desiredHash) return undefined;
    const { rollout, cleanupRefused } = parsed.data;
    return {
      spec: parsed.data.spec,
      ...(parsed.data.since ? { since: parsed.data.since } : {}),
      ...(rollout ? { rollout } : {}),
      ...(cleanupRefused ? { cleanupRefused } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The progress of a change asked for now; `since` is Vertex's newest time (see `ChangeProgress.since`). */
export function freshProgress(record: DeploymentRecord, since?: Date): ChangeProgress {
  return { spec: record.desiredHash, ...(since ? { since: since.toISOString() } : {}) };
}

/**
 * The endpoint's labels: the spec's tags, and the two mlscale finds its endpoints by. `spec` is the
 * record's (sealed): tags whose values are secrets are left out (`tagLabels`).
 */
export function endpointLabels(spec: DeploymentSpec): Record<string, string> {
  return { ...tagLabels(spec.tags), [labelKeys.managed]: 'true', [labelKeys.deployment]: spec.name };
}
