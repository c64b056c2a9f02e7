import { converge } from './converge.js';
import { defineCommand, listValues } from './define-command.js';

/** `mlscale destroy`: remove everything the file and the state name. */
export const destroyCommand = defineCommand({
  name: 'destroy',
  summary: 'Delete the deployments (and stop the running training jobs) the file and the state name.',
  usage: 'mlscale destroy [--yes] [--env NAME] [--target NAME]... [--json]',
  optionHelp: [
    '  -y, --yes           destroy without asking (required when not run from a terminal)',
    '  -t, --target NAME   only this deployment or job; repeatable',
    '      --timeout DUR   most time to wait for each deletion (default 1h)',
    '      --parallelism N independent resources changed at once (default 4)',
    '      --lock-timeout DUR wait this long for another apply to release the state (default 0)',
  ],
  examples: [
    'mlscale destroy',
    'mlscale destroy --env staging --yes',
    'mlscale destroy --target mnist-canary --yes',
  ],
  options: {
    yes: { type: 'boolean', short: 'y', default: false },
    target: { type: 'string', short: 't', multiple: true },
    timeout: { type: 'string' },
    parallelism: { type: 'string' },
    'lock-timeout': { type: 'string' },
  },
  run: ({ values, context, output }) =>
    converge({ mode: 'destroy', values, targets: listValues(values.target), context, output }),
});
