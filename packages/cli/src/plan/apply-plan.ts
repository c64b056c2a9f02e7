import {
  type DeploymentSpec,
  deploymentSpecHash,
  type MlscaleClient,
  MlscaleError,
  sealDeploymentSpec,
  specHash,
  type TrainingJobSpec,
  terminalTrainingJobStates,
  toMlscaleError,
  waitFor,
} from '@mlscale/core';
import type { BackendPool } from '../backends/backend-pool.js';
import type { StateSession } from '../state/state-store.js';
import type { Plan, PlanAction, PlannedChange } from './compute-plan.js';

/** How one row ended. */
export interface AppliedChange {
  kind: PlannedChange['kind'];
  name: string;
  action: PlanAction;
  outcome: 'done' | 'failed' | 'skipped';
  durationMs: number;
  error?: { code: string; message: string };
}

export interface ApplyPlanOptions {
  plan: Plan;
  pool: BackendPool;
  session: StateSession;
  /** One line per step ("deployment/mnist: creating"). */
  progress: (line: string) => void;
  signal?: AbortSignal;
  /** Most time to wait for each resource. Default one hour. */
  timeoutMs?: number;
  /** Most resources changed at once (independent ones only). Default 4. */
  parallelism?: number;
}

const verbs: Record<PlanAction, [string, string]> = {
  create: ['creating', 'created'],
  update: ['updating in place', 'updated'],
  rollout: ['rolling out', 'rolled out'],
  replace: ['replacing', 'replaced'],
  destroy: ['destroying', 'destroyed'],
  unchanged: ['checking', 'in sync'],
  conflict: ['', ''],
};

/**
 * Converges the plan: destroys first (deployments before jobs), then the rest in dependency order,
 * independent resources up to `parallelism` at once. Each step is written to the state before it starts and when it ends, so a killed apply resumes:
 * the next plan sees what the backend already has and waits for it instead of creating it twice.
 * A failed step skips what depends on it; independent steps go on.
 */
export async function applyPlan(options: ApplyPlanOptions): Promise<AppliedChange[]> {
  const { plan, session, progress } = options;
  const conflicts = plan.changes.filter((row) => row.action === 'conflict');
  if (conflicts.length > 0) {
    throw new MlscaleError({
      code: 'Conflict',
      message: `The plan has conflicts apply cannot resolve:\n${conflicts.map((row) => `  ${row.kind}/${row.name}: ${row.reason}`).join('\n')}`,
    });
  }
  for (const entry of session.document.inFlight) {
    progress(
      `${entry.kind}/${entry.name}: resuming '${entry.action}' interrupted since ${entry.startedAt} (pid ${entry.pid})`,
    );
  }
  const results: AppliedChange[] = [];
  const failed = new Set<string>();
  const runOne = async (row: PlannedChange): Promise<void> => {
    const blockedBy = row.dependsOn.find((name) => failed.has(name));
    if (blockedBy) {
      failed.add(row.name);
      progress(`${row.kind}/${row.name}: skipped (${blockedBy} failed)`);
      results.push({ kind: row.kind, name: row.name, action: row.action, outcome: 'skipped', durationMs: 0 });
      return;
    }
    const started = Date.now();
    const [doing, done] = verbs[row.action];
    const quiet = row.action === 'unchanged' && row.liveState === 'InService';
    if (!quiet) progress(`${row.kind}/${row.name}: ${doing}`);
    try {
      await applyRow(row, options);
      if (!quiet)
        progress(`${row.kind}/${row.name}: ${done} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      results.push({
        kind: row.kind,
        name: row.name,
        action: row.action,
        outcome: 'done',
        durationMs: Date.now() - started,
      });
    } catch (error) {
      const problem = toMlscaleError(error);
      if (problem.code === 'Aborted') throw problem;
      failed.add(row.name);
      progress(`${row.kind}/${row.name}: failed: ${problem.message}`);
      await session.settle(row.kind, row.name);
      results.push({
        kind: row.kind,
        name: row.name,
        action: row.action,
        outcome: 'failed',
        durationMs: Date.now() - started,
        error: { code: problem.code, message: problem.message },
      });
    }
  };
  const parallelism = Math.max(1, options.parallelism ?? 4);
  const destroys = plan.changes.filter((row) => row.action === 'destroy');
  // Deployments go before the jobs whose models they serve; each group in parallel.
  await runGraph(
    destroys.filter((row) => row.kind === 'deployment'),
    parallelism,
    runOne,
    false,
  );
  await runGraph(
    destroys.filter((row) => row.kind === 'trainingJob'),
    parallelism,
    runOne,
    false,
  );
  await runGraph(
    plan.changes.filter((row) => row.action !== 'destroy'),
    parallelism,
    runOne,
    true,
  );
  return results;
}

/**
 * Runs rows at most `parallelism` at a time; with `ordered`, a row starts only once the rows of this plan
 * it depends on have finished. An abort stops new starts, lets running ones settle, and rethrows.
 */
async function runGraph(
  rows: PlannedChange[],
  parallelism: number,
  runOne: (row: PlannedChange) => Promise<void>,
  ordered: boolean,
): Promise<void> {
  const names = new Set(rows.map((row) => row.name));
  const finished = new Set<string>();
  const waiting = [...rows];
  const running = new Map<string, Promise<void>>();
  let abort: unknown;
  while ((waiting.length > 0 && abort === undefined) || running.size > 0) {
    for (let index = 0; index < waiting.length && running.size < parallelism && abort === undefined; ) {
      const row = waiting[index]!;
      const ready = !ordered || row.dependsOn.every((name) => !names.has(name) || finished.has(name));
      if (!ready) {
        index += 1;
        continue;
      }
      waiting.splice(index, 1);
      // Keyed by backend too: a deployment moving between backends is destroyed on both in one run.
      const key = `${row.backend}/${row.kind}/${row.name}`;
      running.set(
        key,
        runOne(row)
          .catch((error: unknown) => {
            abort ??= error;
          })
          .finally(() => {
            finished.add(row.name);
            running.delete(key);
          }),
      );
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (abort !== undefined) throw abort;
}

async function applyRow(row: PlannedChange, options: ApplyPlanOptions): Promise<void> {
  const { pool, session, signal } = options;
  const client = await pool.client(row.backend);
  const operation = {
    ...(signal ? { signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  };
  const record = async (spec: DeploymentSpec | TrainingJobSpec) =>
    session.applied({
      kind: row.kind,
      name: row.name,
      backend: row.backend,
      provider: client.backend.provider,
      // Deployments as their backends record them: secrets sealed.
      ...(row.kind === 'deployment'
        ? {
            specHash: deploymentSpecHash(spec as DeploymentSpec),
            spec: sealDeploymentSpec(spec as DeploymentSpec),
          }
        : { specHash: specHash(spec), spec }),
    });

  if (row.action === 'destroy') {
    await session.begin({
      kind: row.kind,
      name: row.name,
      backend: row.backend,
      action: 'destroy',
      specHash: '',
    });
    if (row.kind === 'deployment') await client.delete(row.name, operation);
    else if (row.liveState && !terminalTrainingJobStates.has(row.liveState as never))
      await client.stopJob(row.name, operation);
    await session.forget(row.kind, row.name);
    return;
  }
  const spec = row.spec;
  if (!spec) throw new MlscaleError({ code: 'InvalidSpec', message: `No spec for ${row.kind}/${row.name}.` });
  const hash = row.kind === 'deployment' ? deploymentSpecHash(spec as DeploymentSpec) : specHash(spec);

  if (row.kind === 'trainingJob') {
    const jobSpec = spec as TrainingJobSpec;
    if (row.action === 'create') {
      await session.begin({
        kind: row.kind,
        name: row.name,
        backend: row.backend,
        action: 'create',
        specHash: hash,
      });
      await client.train(jobSpec, operation);
    } else {
      await waitForJob(client, row.name, signal);
    }
    await record(jobSpec);
    return;
  }

  const deploymentSpec = spec as DeploymentSpec;
  switch (row.action) {
    case 'create':
      await session.begin({
        kind: row.kind,
        name: row.name,
        backend: row.backend,
        action: 'create',
        specHash: hash,
      });
      await client.deploy(deploymentSpec, operation);
      break;
    case 'replace': {
      await session.begin({
        kind: row.kind,
        name: row.name,
        backend: row.backend,
        action: 'replace',
        specHash: hash,
      });
      const previous = row.previousBackend ? await pool.client(row.previousBackend) : client;
      await previous.delete(row.name, operation);
      await client.deploy(deploymentSpec, operation);
      break;
    }
    case 'update':
    case 'rollout': {
      await session.begin({
        kind: row.kind,
        name: row.name,
        backend: row.backend,
        action: row.action,
        specHash: hash,
      });
      // The file's spec replaces the recorded one whole; the backend applies scaling-only changes in
      // place and rolls a new model out.
      await client.update(deploymentSpec, { ...operation, replace: true });
      break;
    }
    case 'unchanged':
      // Recorded as the file says. Not converged (a killed apply, or drift): sending the spec again
      // gives the backend what only this process has (secret values) and drives it to the end.
      if (row.liveState !== 'InService') await client.update(deploymentSpec, { ...operation, replace: true });
      break;
    default:
      break;
  }
  await record(deploymentSpec);
}

async function waitForJob(
  client: MlscaleClient,
  name: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  await waitFor({
    description: `training job '${name}' to finish`,
    minDelayMs: 100,
    maxDelayMs: 5000,
    maxWaitMs: 365 * 24 * 3_600_000,
    ...(signal ? { signal } : {}),
    check: async (checkSignal) => {
      const status = await client.job(name, checkSignal ? { signal: checkSignal } : {});
      if (status.state === 'Completed') return { state: 'SUCCESS', value: status };
      if (terminalTrainingJobStates.has(status.state)) {
        return {
          state: 'FAILURE',
          reason: `${status.state}${status.failureReason ? `: ${status.failureReason}` : ''}`,
        };
      }
      return { state: 'RETRY', progress: status.state };
    },
  });
}
