import { readFile, writeFile } from 'node:fs/promises';
import {
  canonicalJson,
  type DeploymentSpec,
  MlscaleError,
  redact,
  sealDeploymentSpec,
  specHash,
} from '@mlscale/core';
import { z } from 'zod';
import type { Plan, PlannedChange } from './compute-plan.js';

/**
 * A reviewed plan (`mlscale plan --out FILE`), for `mlscale apply FILE`. It holds no secret: the rows are
 * redacted and the specs sealed (secrets as keyed hashes), so it can be kept as a CI artifact. Apply does
 * not trust it to carry the specs: it plans again from the config file under the state lock and applies
 * only if that plan is the reviewed one (the same rows, to the same specs, from the same state serial),
 * as Terraform refuses a stale saved plan.
 */
export interface SavedPlan {
  format: 'mlscale-plan';
  version: 1;
  project: string;
  environment: string | null;
  /** The state's serial the plan was made from. */
  stateSerial: number;
  createdAt: string;
  /** One per row: what identifies the change (see `rowFingerprint`). */
  fingerprints: string[];
  /** The plan as `plan --json` shows it, for people and tools reviewing it. */
  plan: unknown;
}

const savedPlanSchema = z.object({
  format: z.literal('mlscale-plan'),
  version: z.literal(1),
  project: z.string(),
  environment: z.string().nullable(),
  stateSerial: z.number().int().min(0),
  createdAt: z.string(),
  fingerprints: z.array(z.string()),
  plan: z.unknown(),
});

/** What a row changes, to what (specs sealed), with none of what moves on its own (live state, cost). */
function rowFingerprint(row: PlannedChange): string {
  const spec =
    row.spec === undefined
      ? undefined
      : specHash(row.kind === 'deployment' ? sealDeploymentSpec(row.spec as DeploymentSpec) : row.spec);
  return canonicalJson({
    kind: row.kind,
    name: row.name,
    backend: row.backend,
    previousBackend: row.previousBackend,
    action: row.action,
    changes: redact(row.changes),
    spec,
  });
}

/** Writes `plan` to `path` as a saved plan made from state serial `stateSerial`. */
export async function writeSavedPlan(path: string, plan: Plan, stateSerial: number): Promise<void> {
  const saved: SavedPlan = {
    format: 'mlscale-plan',
    version: 1,
    project: plan.project,
    environment: plan.environment,
    stateSerial,
    createdAt: new Date().toISOString(),
    fingerprints: plan.changes.map(rowFingerprint),
    plan: redact({
      ...plan,
      changes: plan.changes.map((row) => ({
        ...row,
        ...(row.spec && row.kind === 'deployment'
          ? { spec: sealDeploymentSpec(row.spec as DeploymentSpec) }
          : {}),
      })),
    }),
  };
  await writeFile(path, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
}

/** Reads a saved plan; a file that is not one is a usage error naming it. */
export async function readSavedPlan(path: string): Promise<SavedPlan> {
  let parsed: z.ZodSafeParseResult<z.infer<typeof savedPlanSchema>>;
  try {
    parsed = savedPlanSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `${path} is not a saved plan: ${error instanceof Error ? error.message : String(error)}. Make one with 'mlscale plan --out ${path}'.`,
    });
  }
  if (!parsed.success) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `${path} is not a saved plan (${parsed.error.issues[0]?.path.join('.') || '(root)'}: ${parsed.error.issues[0]?.message}). Make one with 'mlscale plan --out ${path}'.`,
    });
  }
  return parsed.data as SavedPlan;
}

/** Why `plan` (made now, from state serial `stateSerial`) is not the saved one; undefined when it is. */
export function staleReason(saved: SavedPlan, plan: Plan, stateSerial: number): string | undefined {
  if (saved.project !== plan.project || saved.environment !== plan.environment) {
    return `it is for project ${saved.project}${saved.environment ? `, environment ${saved.environment}` : ''}`;
  }
  if (saved.stateSerial !== stateSerial) {
    return `the state changed since (serial ${saved.stateSerial} then, ${stateSerial} now)`;
  }
  const now = plan.changes.map(rowFingerprint);
  const different = now.findIndex((fingerprint, index) => fingerprint !== saved.fingerprints[index]);
  if (different >= 0) {
    const row = plan.changes[different]!;
    return `${row.kind} '${row.name}' would now be '${row.action}', not as reviewed (the file or what runs changed)`;
  }
  if (now.length !== saved.fingerprints.length) {
    return `it had ${saved.fingerprints.length} rows, the plan now has ${now.length}`;
  }
  return undefined;
}
