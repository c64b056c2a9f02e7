import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type DeploymentSpec,
  type DeploymentStatus,
  deploymentSpecHash,
  MlscaleError,
  sealDeploymentSpec,
  specHash,
  type TrainingJobSpec,
  type TrainingJobStatus,
  terminalTrainingJobStates,
} from '@mlscale/core';
import type { BackendPool } from '../backends/backend-pool.js';
import type { ConfiguredResource, MlscaleConfig } from '../config/load-config.js';
import { modelUris, uriScheme } from '../config/model-uris.js';
import { type CostEstimate, estimateCost, pricesWith } from '../cost/estimate-cost.js';
import type { PriceTable } from '../cost/price-table.js';
import {
  type ResourceKind,
  resourceKey,
  type StateDocument,
  type StateResource,
} from '../state/state-document.js';
import { diffSpecs, type FieldChange } from './spec-diff.js';

/**
 * What apply will do to one resource:
 * - `create`: not there; `update`: changes in place (old → new per field); `rollout`: a new model or
 *   traffic split rolls out behind the same endpoint; `replace`: deleted and created again (the backend
 *   moved, a field that cannot change in place changed, or it failed); `destroy`: no longer in the file;
 *   `unchanged`; `conflict`: apply cannot converge it (a training job that ran with another spec).
 */
export type PlanAction = 'create' | 'update' | 'rollout' | 'replace' | 'destroy' | 'unchanged' | 'conflict';

/** One row of the plan. */
export interface PlannedChange {
  kind: ResourceKind;
  name: string;
  /** The backend entry it ends up on (for destroy: the one it is on). */
  backend: string;
  provider: string;
  action: PlanAction;
  /** Changed fields, for update, rollout and replace. */
  changes: FieldChange[];
  /** Why a replace or conflict, or what a row waits for ("still Creating"). */
  reason?: string;
  /** The live state now (`InService`, `Creating`, `Running`, ...), when it exists. */
  liveState?: string;
  /** For replace across backends: the backend it is deleted from. */
  previousBackend?: string;
  /** Names this one waits for. */
  dependsOn: string[];
  /** The spec apply converges to (absent for destroy). */
  spec?: DeploymentSpec | TrainingJobSpec;
  /** What it costs to run once applied (absent for destroy). */
  cost?: CostEstimate;
}

/** The whole plan. */
export interface Plan {
  project: string;
  environment: string | null;
  changes: PlannedChange[];
  summary: Record<PlanAction, number>;
  /**
   * Whether apply would do anything: change a resource, or finish a deployment that is recorded as the
   * file says but has not converged (a killed apply, a refused step, drift such as missing autoscaling).
   */
  hasChanges: boolean;
  /** Deployments recorded as the file says that apply still has to finish. */
  converging: number;
  /** Running cost of the deployments after apply (training jobs are per run, not summed). */
  cost: {
    hourly: { minimum: number; maximum: number };
    monthly: { minimum: number; maximum: number };
    /** Resources without a price (their cost is not in the totals). */
    unpriced: string[];
    priceTableDate: string;
  };
}

export interface ComputePlanOptions {
  config: MlscaleConfig;
  state: StateDocument;
  pool: BackendPool;
  /** Only these names (and what they depend on). */
  targets?: string[];
  /** Plan removing everything (`destroy`). */
  destroy?: boolean;
  /** Only resources of this kind (`train` plans training jobs only). */
  kind?: ResourceKind;
  prices?: PriceTable;
  signal?: AbortSignal;
}

/** Fields no backend changes in place: a change means delete and create. */
const replaceFields = ['network', 'encryption'];
/** Fields whose change rolls a new model version out. */
const rolloutFields = ['model', 'traffic'];

/** Reads live state through each backend's get and diffs the file against it. */
export async function computePlan(options: ComputePlanOptions): Promise<Plan> {
  const { config, state, pool } = options;
  const prices = options.prices ?? pricesWith(config.pricing);
  const selected = selectTargets(config.resources, options.targets);
  const rows: PlannedChange[] = [];

  for (const resource of selected) {
    const stateEntry = state.resources[resourceKey(resource.kind, resource.name)];
    const provider = pool.provider(resource.backend) ?? 'unknown';
    const base = {
      kind: resource.kind,
      name: resource.name,
      backend: resource.backend,
      provider,
      dependsOn: resource.dependsOn,
    };
    if (options.destroy) {
      const live = await readLive(pool, resource.kind, resource.backend, resource.name, options.signal);
      if (live)
        rows.push({
          ...base,
          action: 'destroy',
          changes: [],
          liveState: live.state,
          ...jobDestroyReason(live),
        });
      // Also what state says was applied on another backend, if it still runs there.
      if (stateEntry && stateEntry.backend !== resource.backend)
        rows.push(...(await destroyRow(stateEntry, pool, options.signal)));
      continue;
    }
    const cost = estimateCost(resource, provider, prices);
    const movedFrom = stateEntry && stateEntry.backend !== resource.backend ? stateEntry.backend : undefined;
    if (movedFrom) {
      const stillThere = config.backends.has(movedFrom)
        ? await readLive(pool, resource.kind, movedFrom, resource.name, options.signal)
        : undefined;
      if (stillThere) {
        rows.push({
          ...base,
          action: 'replace',
          changes: [{ path: 'backend', before: movedFrom, after: resource.backend }],
          reason: `moves from backend '${movedFrom}' to '${resource.backend}'`,
          previousBackend: movedFrom,
          spec: resource.spec,
          cost,
        });
        continue;
      }
    }
    const live = await readLive(pool, resource.kind, resource.backend, resource.name, options.signal);
    const row: PlannedChange = { ...base, ...classify(resource, live), spec: resource.spec, cost };
    rows.push({ ...row, ...(await refusal(pool, resource, row.action)) });
  }

  if (!options.targets?.length || options.destroy) {
    const declared = new Set(config.resources.map((resource) => resourceKey(resource.kind, resource.name)));
    for (const [key, entry] of Object.entries(state.resources)) {
      if (declared.has(key)) continue;
      if (options.targets?.length && !options.targets.includes(entry.name)) continue;
      rows.push(...(await destroyRow(entry, pool, options.signal, config)));
    }
  }

  if (options.kind) rows.splice(0, rows.length, ...rows.filter((row) => row.kind === options.kind));
  const summary: Record<PlanAction, number> = {
    create: 0,
    update: 0,
    rollout: 0,
    replace: 0,
    destroy: 0,
    unchanged: 0,
    conflict: 0,
  };
  for (const row of rows) summary[row.action] += 1;
  const converging = rows.filter(
    (row) => row.kind === 'deployment' && row.action === 'unchanged' && row.liveState !== 'InService',
  ).length;
  return {
    project: config.project,
    environment: config.environment ?? null,
    changes: rows,
    summary,
    hasChanges: converging > 0 || rows.some((row) => row.action !== 'unchanged'),
    converging,
    cost: totalCost(rows, prices),
  };
}

/** Targets plus, transitively, what they depend on (as Terraform's -target does). */
export function selectTargets(
  resources: ConfiguredResource[],
  targets: string[] | undefined,
): ConfiguredResource[] {
  if (!targets?.length) return resources;
  const byName = new Map(resources.map((resource) => [resource.name, resource]));
  const unknown = targets.filter((target) => !byName.has(target));
  if (unknown.length) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `Unknown target${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `'${name}'`).join(', ')}: expected names of deployments or training jobs in the file (${[...byName.keys()].join(', ')}).`,
    });
  }
  const chosen = new Set<string>();
  const add = (name: string) => {
    if (chosen.has(name)) return;
    chosen.add(name);
    for (const dependency of byName.get(name)?.dependsOn ?? []) add(dependency);
  };
  for (const target of targets) add(target);
  return resources.filter((resource) => chosen.has(resource.name));
}

type LiveResource =
  | { kind: 'deployment'; state: string; status: DeploymentStatus }
  | { kind: 'trainingJob'; state: string; status: TrainingJobStatus };

async function readLive(
  pool: BackendPool,
  kind: ResourceKind,
  backend: string,
  name: string,
  signal?: AbortSignal,
): Promise<LiveResource | undefined> {
  const client = await pool.client(backend);
  try {
    if (kind === 'deployment') {
      const status = await client.get(name, signal ? { signal } : {});
      return status.state === 'Deleting' ? undefined : { kind, state: status.state, status };
    }
    const status = await client.job(name, signal ? { signal } : {});
    return { kind, state: status.state, status };
  } catch (error) {
    if (MlscaleError.hasCode(error, 'NotFound')) return undefined;
    throw error;
  }
}

function classify(
  resource: ConfiguredResource,
  live: LiveResource | undefined,
): Pick<PlannedChange, 'action' | 'changes' | 'reason' | 'liveState'> {
  if (!live) return { action: 'create', changes: [] };
  const liveState = live.state;
  if (resource.kind === 'trainingJob' && live.kind === 'trainingJob') {
    if (specHash(live.status.spec) === specHash(resource.spec))
      return { action: 'unchanged', changes: [], liveState };
    return {
      action: 'conflict',
      changes: diffSpecs(live.status.spec, resource.spec),
      reason: `training job '${resource.name}' already ran with another spec: jobs cannot change, give the new one another name`,
      liveState,
    };
  }
  if (resource.kind !== 'deployment' || live.kind !== 'deployment') return { action: 'create', changes: [] };
  // Backends record specs sealed (secrets as keyed hashes): compare and show the file's spec the same way.
  const wanted = sealDeploymentSpec(resource.spec as DeploymentSpec);
  const desiredHash = deploymentSpecHash(wanted);
  const changes = diffSpecs(live.status.spec, wanted);
  if (live.status.state === 'Failed') {
    return {
      action: 'replace',
      changes,
      reason: `it failed${live.status.stateReason ? `: ${live.status.stateReason}` : ''}`,
      liveState,
    };
  }
  if (live.status.specHash === desiredHash || changes.length === 0) {
    // Recorded as the file says; apply still finishes it if it has not converged (a killed apply, drift).
    const converged =
      liveState === 'InService' &&
      (live.status.servingSpecHash ?? live.status.specHash) === live.status.specHash;
    return {
      action: 'unchanged',
      changes: [],
      liveState: converged ? 'InService' : liveState === 'InService' ? 'Updating' : liveState,
      ...(converged
        ? {}
        : {
            reason: `still ${liveState === 'InService' ? 'converging' : liveState}${live.status.stateReason ? ` (${live.status.stateReason})` : ''}: apply finishes it`,
          }),
    };
  }
  const top = (change: FieldChange) => change.path.split('.')[0] ?? change.path;
  const serverlessToggled = Boolean(live.status.spec.serverless) !== Boolean(resource.spec.serverless);
  const blocking = changes.filter((change) => replaceFields.includes(top(change)));
  if (serverlessToggled || blocking.length > 0) {
    const fields = [...new Set([...(serverlessToggled ? ['serverless'] : []), ...blocking.map(top)])];
    return { action: 'replace', changes, reason: `${fields.join(', ')} cannot change in place`, liveState };
  }
  if (changes.some((change) => rolloutFields.includes(top(change))))
    return { action: 'rollout', changes, liveState };
  return { action: 'update', changes, liveState };
}

/**
 * A deployment change its backend's own limits refuse (`validateSpec`: a rollout the platform cannot
 * express), as a conflict, so `plan` shows it and `apply` stops before sending anything.
 */
async function refusal(
  pool: BackendPool,
  resource: ConfiguredResource,
  action: PlanAction,
): Promise<Pick<PlannedChange, 'action' | 'reason'> | undefined> {
  if (resource.kind !== 'deployment' || !['create', 'update', 'rollout', 'replace'].includes(action)) return;
  // A model file the deploy would read is there, unless a training job of this file writes it first.
  if (resource.dependsOn.length === 0) {
    const missing = localModelFiles(resource.spec).find((path) => !existsSync(path));
    if (missing) return { action: 'conflict', reason: `its model file ${missing} does not exist` };
  }
  const { backend } = await pool.client(resource.backend);
  const issues = backend.deployments.validateSpec?.(resource.spec) ?? [];
  if (issues.length === 0) return;
  const list = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return { action: 'conflict', reason: `the ${backend.provider} backend refuses it: ${list}` };
}

/** The local files (paths, `file://` URIs) a deployment's models name. */
function localModelFiles(spec: DeploymentSpec): string[] {
  return modelUris(spec).flatMap((uri) => {
    if (uri.startsWith('file://')) return [fileURLToPath(uri)];
    return uriScheme.test(uri) ? [] : [uri];
  });
}

async function destroyRow(
  entry: StateResource,
  pool: BackendPool,
  signal?: AbortSignal,
  config?: MlscaleConfig,
): Promise<PlannedChange[]> {
  const base = {
    kind: entry.kind,
    name: entry.name,
    backend: entry.backend,
    provider: entry.provider,
    changes: [],
    dependsOn: [],
  };
  if (config && !config.backends.has(entry.backend)) {
    return [
      {
        ...base,
        action: 'conflict',
        reason: `backend '${entry.backend}' is no longer in the file: put it back to destroy '${entry.name}', or remove it from the state`,
      },
    ];
  }
  const live = await readLive(pool, entry.kind, entry.backend, entry.name, signal);
  // Gone already: still a row, so apply forgets it from the state.
  return [
    {
      ...base,
      action: 'destroy',
      ...(live ? { liveState: live.state } : { reason: 'already gone; removed from state' }),
    },
  ];
}

function totalCost(rows: PlannedChange[], prices: PriceTable): Plan['cost'] {
  let minimum = 0;
  let maximum = 0;
  const unpriced: string[] = [];
  for (const row of rows) {
    if (row.kind !== 'deployment' || row.action === 'destroy' || row.action === 'conflict' || !row.cost)
      continue;
    if (!row.cost.hourly) {
      unpriced.push(row.name);
      continue;
    }
    minimum += row.cost.hourly.minimum;
    maximum += row.cost.hourly.maximum;
  }
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    hourly: { minimum: round(minimum), maximum: round(maximum) },
    monthly: { minimum: round(minimum * 730), maximum: round(maximum * 730) },
    unpriced,
    priceTableDate: prices.date,
  };
}

/** What destroying a training job means: stopping it if it runs; a finished one stays in the backend's history. */
function jobDestroyReason(live: LiveResource): { reason?: string } {
  if (live.kind !== 'trainingJob') return {};
  return terminalTrainingJobStates.has(live.status.state)
    ? { reason: `${live.state}: stays in the backend's job history, removed from state` }
    : { reason: `${live.state}: stopped` };
}
