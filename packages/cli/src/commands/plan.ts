import { basename, resolve } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import { renderPlan } from '../output/render-plan.js';
import { computePlan } from '../plan/compute-plan.js';
import { writeSavedPlan } from '../plan/saved-plan.js';
import { readState } from '../state/state-store.js';
import { exitCodes } from './command-context.js';
import { defineCommand, listValues, reportError } from './define-command.js';
import { openProject } from './open-project.js';
import { loadPriceOverride } from './price-option.js';

/** `mlscale plan`: what apply would change, and what it would cost. */
export const planCommand = defineCommand({
  name: 'plan',
  summary: 'Show what apply would change (read from each backend) and what it would cost.',
  usage: 'mlscale plan [--env NAME] [--target NAME]... [--out FILE] [--detailed-exitcode] [--json]',
  optionHelp: [
    '  -t, --target NAME       only this deployment or job (and what it depends on); repeatable',
    '      --destroy           plan removing everything instead',
    "  -o, --out FILE          save the plan (no secrets in it) for 'mlscale apply FILE' to apply as reviewed",
    "      --detailed-exitcode Terraform's codes: 2 when the plan has changes, 0 when none, 1 on any error",
    '      --prices FILE       JSON of hourly prices overriding the shipped table ({"aws": {"ml.g5.xlarge": 1.2}})',
  ],
  examples: [
    'mlscale plan',
    'mlscale plan --env prod --detailed-exitcode   # in CI: 2 means drift',
    'mlscale plan --json | jq .summary',
    'mlscale plan --out release.plan && mlscale apply release.plan   # apply exactly what was reviewed',
  ],
  options: {
    target: { type: 'string', short: 't', multiple: true },
    destroy: { type: 'boolean', default: false },
    'detailed-exitcode': { type: 'boolean', default: false },
    out: { type: 'string', short: 'o' },
    prices: { type: 'string' },
  },
  async run({ values, context, output }) {
    const detailed = values['detailed-exitcode'] === true;
    try {
      return await planAndShow();
    } catch (error) {
      if (!detailed) throw error;
      // Terraform's contract: 0 no changes, 1 any error (a bad config file too), 2 changes.
      reportError(error, output, context);
      return exitCodes.failed;
    }

    async function planAndShow(): Promise<number> {
      const project = await openProject(values, context);
      try {
        const { config } = project;
        const state = await readState(config.directory, config.project, config.environment);
        const targets = listValues(values.target);
        const prices = await loadPriceOverride(values.prices, context, config.pricing);
        const plan = await computePlan({
          config,
          state,
          pool: project.pool,
          destroy: values.destroy === true,
          ...(targets.length ? { targets } : {}),
          ...(prices ? { prices } : {}),
          ...(context.signal ? { signal: context.signal } : {}),
        });
        if (values.out !== undefined) {
          if (values.destroy) {
            throw new MlscaleError({
              code: 'InvalidSpec',
              message: "--out saves plans for 'mlscale apply FILE'; a destroy plan is not applied that way.",
            });
          }
          await writeSavedPlan(resolve(context.cwd, values.out), plan, state.serial);
        }
        if (output.json) output.result({ ok: true, file: config.path, ...plan });
        else {
          output.line(
            output.color.bold(
              `mlscale plan: ${basename(config.path)}, project ${config.project}${config.environment ? `, environment ${config.environment}` : ''}`,
            ),
          );
          output.line();
          output.line(renderPlan(plan, output.color));
          if (values.out !== undefined) {
            output.line();
            output.line(
              `Saved the plan to ${values.out}: 'mlscale apply ${values.out}' applies exactly this.`,
            );
          }
          if (plan.changes.some((row) => row.provider === 'local' && row.kind === 'deployment')) {
            // The local backend's servers belong to the process that runs them.
            output.line(
              output.color.dim(
                'Local deployments live inside the `mlscale apply` process that serves them: a plan from another process does not see them.',
              ),
            );
          }
        }
        return detailed && plan.hasChanges ? exitCodes.changes : exitCodes.ok;
      } finally {
        await project.close();
      }
    }
  },
});
