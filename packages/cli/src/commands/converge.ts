import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { MlscaleError, type MlscaleEvent } from '@mlscale/core';
import { renderPlan } from '../output/render-plan.js';
import { isCi } from '../output/terminal.js';
import { applyPlan } from '../plan/apply-plan.js';
import { computePlan, type Plan } from '../plan/compute-plan.js';
import { readSavedPlan, staleReason } from '../plan/saved-plan.js';
import { openStateSession } from '../state/state-store.js';
import { type CommandContext, exitCodes } from './command-context.js';
import type { CommandOutput } from './define-command.js';
import { type OpenProject, openProject } from './open-project.js';
import { loadPriceOverride } from './price-option.js';

export interface ConvergeOptions {
  mode: 'apply' | 'destroy' | 'train';
  values: {
    file?: string | undefined;
    env?: string | undefined;
    yes?: boolean | undefined;
    prices?: string | undefined;
    timeout?: string | undefined;
    'no-serve'?: boolean | undefined;
    parallelism?: string | undefined;
    'lock-timeout'?: string | undefined;
  };
  targets: string[];
  context: CommandContext;
  output: CommandOutput;
  /** A plan saved by `plan --out`: applied without asking, only if planning again gives exactly it. */
  savedPlanPath?: string;
}

/**
 * Plan, confirm, apply: the body of `apply`, `destroy` and `train`. Holds the state lock throughout, so
 * two applies cannot interleave; a killed one leaves its lock to be taken over and its in-flight
 * operations to be resumed.
 */
export async function converge(options: ConvergeOptions): Promise<number> {
  const { mode, values, context, output } = options;
  // Progress goes to stdout for people; with --json, stdout carries only the result.
  const progress = (line: string) => (output.json ? output.note(line) : output.line(line));
  const lastReported = new Map<string, number>();
  const onEvent = (event: MlscaleEvent) => {
    if (event.type !== 'operation-progress') return;
    // A line every 15 s per resource is enough to show life in CI logs, without spinners.
    const last = lastReported.get(event.target) ?? 0;
    if (event.elapsedMs - last < 15_000) return;
    lastReported.set(event.target, event.elapsedMs);
    progress(`  ${event.target}: still ${event.state} (${Math.round(event.elapsedMs / 1000)}s)`);
  };
  // Flags are checked before anything is read or asked.
  const timeoutMs = values.timeout ? parseDuration(values.timeout) : undefined;
  const parallelism = parseParallelism(values.parallelism);
  const lockTimeoutMs = values['lock-timeout'] ? parseDuration(values['lock-timeout']) : 0;
  const saved = options.savedPlanPath ? await readSavedPlan(options.savedPlanPath) : undefined;
  if (saved && options.targets.length > 0) {
    throw new MlscaleError({ code: 'InvalidSpec', message: 'A saved plan is applied whole: drop --target.' });
  }
  const project = await openProject(values, context, onEvent);
  try {
    const { config } = project;
    const session = await openStateSession(
      config.directory,
      config.project,
      config.environment,
      `mlscale ${mode}`,
      { lockTimeoutMs, ...(context.signal ? { signal: context.signal } : {}) },
    );
    try {
      if (session.staleLockFrom) {
        output.note(
          `Took over the state lock left by '${session.staleLockFrom.command}' (pid ${session.staleLockFrom.pid}, no longer running).`,
        );
      }
      const prices = await loadPriceOverride(values.prices, context, config.pricing);
      const plan = await computePlan({
        config,
        state: session.document,
        pool: project.pool,
        destroy: mode === 'destroy',
        ...(mode === 'train' ? { kind: 'trainingJob' as const } : {}),
        ...(options.targets.length ? { targets: options.targets } : {}),
        ...(prices ? { prices } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      });
      output.line(
        output.color.bold(
          `mlscale ${mode}: ${basename(config.path)}, project ${config.project}${config.environment ? `, environment ${config.environment}` : ''}`,
        ),
      );
      output.line();
      output.line(renderPlan(plan, output.color));
      output.line();

      if (saved) {
        const stale = staleReason(saved, plan, session.document.serial);
        if (stale) {
          throw new MlscaleError({
            code: 'Conflict',
            message: `Saved plan ${basename(options.savedPlanPath ?? '')} is stale: ${stale}. Nothing was changed; run 'mlscale plan --out FILE' again and review it.`,
          });
        }
      }
      const settled = (row: (typeof plan.changes)[number]) =>
        row.action === 'unchanged' &&
        row.liveState === (row.kind === 'deployment' ? 'InService' : 'Completed');
      if (plan.changes.every(settled) && session.document.inFlight.length === 0) {
        // Still record what is live and matching, so state follows the file after an import-like first run.
        await applyPlan({ plan, pool: project.pool, session, progress: () => {} });
        output.line('Nothing to do.');
        if (output.json) output.result({ ok: true, plan, results: [] });
        return exitCodes.ok;
      }
      // A saved plan was reviewed when it was made.
      if (!values.yes && !saved) {
        if (!context.stdin.isTTY || isCi(context)) {
          output.note(
            `mlscale ${mode}: refusing to ${mode === 'destroy' ? 'destroy' : 'apply'} without --yes when not run from a terminal.`,
          );
          if (output.json)
            output.result({
              ok: false,
              plan,
              error: { code: 'ConfirmationRequired', message: 'pass --yes' },
            });
          return exitCodes.usage;
        }
        const answer = await ask(
          context,
          `Do you want to ${mode === 'destroy' ? 'destroy these resources' : 'perform these actions'}? Only 'yes' is accepted: `,
        );
        if (answer.trim() !== 'yes') {
          output.line(`${mode === 'destroy' ? 'Destroy' : 'Apply'} cancelled.`);
          return exitCodes.failed;
        }
      }
      let results: Awaited<ReturnType<typeof applyPlan>>;
      try {
        results = await applyPlan({
          plan,
          pool: project.pool,
          session,
          progress,
          ...(context.signal ? { signal: context.signal } : {}),
          ...(timeoutMs ? { timeoutMs } : {}),
          parallelism,
        });
      } catch (error) {
        if (MlscaleError.hasCode(error, 'Aborted') || context.signal?.aborted) {
          // What was started is recorded in the state; the next apply reads the backends and finishes it.
          throw new MlscaleError({
            code: 'Aborted',
            message: `Interrupted. ${session.document.inFlight.length} operation(s) in flight are recorded in ${session.path}; run 'mlscale ${mode}' again to finish.`,
            cause: error,
          });
        }
        throw error;
      }
      const failed = results.filter((result) => result.outcome !== 'done');
      const done = results.filter((result) => result.outcome === 'done' && result.action !== 'unchanged');
      output.line();
      output.line(
        failed.length
          ? output.color.red(
              `${mode === 'destroy' ? 'Destroy' : 'Apply'} failed: ${failed.length} of ${results.length} resources did not converge (see above). Run it again to retry; finished work is kept.`,
            )
          : output.color.green(
              `${mode === 'destroy' ? 'Destroy' : 'Apply'} complete: ${done.length} changed, ${results.length - done.length} already in sync.`,
            ),
      );
      if (output.json) output.result({ ok: failed.length === 0, plan, results });
      if (failed.length) return exitCodes.failed;
      if (mode === 'apply' && !values['no-serve'])
        await serveLocalDeployments(plan, project, context, output);
      return exitCodes.ok;
    } finally {
      await session.close();
    }
  } finally {
    await project.close();
  }
}

function ask(context: CommandContext, question: string): Promise<string> {
  return new Promise((resolve) => {
    const readline = createInterface({
      input: context.stdin,
      output: context.stdout as NodeJS.WritableStream,
    });
    readline.question(question, (answer) => {
      readline.close();
      resolve(answer);
    });
  });
}

/** `90s`, `15m`, `2h` or plain seconds, to milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `Invalid duration '${text}': expected a number with s, m, h or d (90s, 15m, 2h).`,
    });
  }
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * (units[match[2] ?? 's'] ?? 1000);
}

/**
 * Local deployments live in this process (the local backend's servers are its own): apply keeps serving
 * them in the foreground until Ctrl-C, as `docker compose up` does, unless `--no-serve`.
 */
async function serveLocalDeployments(
  plan: Plan,
  project: OpenProject,
  context: CommandContext,
  output: CommandOutput,
): Promise<void> {
  const local = plan.changes.filter(
    (row) =>
      row.kind === 'deployment' && row.action !== 'destroy' && project.pool.provider(row.backend) === 'local',
  );
  if (local.length === 0 || !context.signal) return;
  const say = (line: string) => (output.json ? output.note(line) : output.line(line));
  say('');
  for (const row of local) {
    const status = await (await project.pool.client(row.backend)).get(row.name);
    say(`Serving ${row.name} at ${status.endpoint?.url ?? '(no address)'} (${status.device?.used ?? 'cpu'})`);
  }
  say(
    'Local deployments run inside this process: press Ctrl-C to stop them (apply --no-serve exits at once).',
  );
  const signal = context.signal;
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  say('Stopping local deployments.');
}

/** `--parallelism N`: 1 to 64, default 4. */
function parseParallelism(text: string | undefined): number {
  if (text === undefined) return 4;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `--parallelism: expected a whole number from 1 to 64, got '${text}'.`,
    });
  }
  return value;
}
