import { resolve } from 'node:path';
import { converge } from './converge.js';
import { defineCommand, listValues } from './define-command.js';

/** `mlscale apply`: converge what runs to the file. */
export const applyCommand = defineCommand({
  name: 'apply',
  summary: 'Converge the backends to the file: create, update, roll out, replace and destroy as planned.',
  usage: 'mlscale apply [--yes] [--env NAME] [--target NAME]... [--json]  |  mlscale apply PLAN_FILE',
  optionHelp: [
    '  -y, --yes           apply without asking (required when not run from a terminal)',
    '  -t, --target NAME   only this deployment or job (and what it depends on); repeatable',
    '      --timeout DUR   most time to wait for each resource (90s, 15m, 2h; default 1h)',
    '      --parallelism N independent resources changed at once (default 4)',
    '      --lock-timeout DUR wait this long for another apply to release the state (default 0)',
    '      --prices FILE   JSON of hourly prices overriding the shipped table',
    '      --no-serve      exit after applying, even when local deployments would keep serving',
    '',
    'Local deployments run inside the mlscale process: after applying, apply keeps serving them in the',
    'foreground until Ctrl-C. Cloud deployments keep running after apply exits.',
  ],
  examples: [
    'mlscale apply',
    'mlscale apply --env prod --yes          # in CI',
    'mlscale apply --target mnist-classifier --yes',
    'mlscale apply release.plan              # a plan saved by plan --out: applied if still exactly it',
  ],
  options: {
    yes: { type: 'boolean', short: 'y', default: false },
    target: { type: 'string', short: 't', multiple: true },
    timeout: { type: 'string' },
    parallelism: { type: 'string' },
    'lock-timeout': { type: 'string' },
    prices: { type: 'string' },
    'no-serve': { type: 'boolean', default: false },
  },
  maxPositionals: 1,
  run: ({ values, positionals, context, output }) =>
    converge({
      mode: 'apply',
      values,
      targets: listValues(values.target),
      context,
      output,
      ...(positionals[0] ? { savedPlanPath: resolve(context.cwd, positionals[0]) } : {}),
    }),
});
