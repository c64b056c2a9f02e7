import { converge } from './converge.js';
import { defineCommand } from './define-command.js';

/** `mlscale train`: run the file's training jobs (all, or those named) and wait for them. */
export const trainCommand = defineCommand({
  name: 'train',
  summary: "Run the file's training jobs (all, or the ones named) and wait until they finish.",
  usage: 'mlscale train [-f FILE] [--env NAME] [--yes] [JOB...]',
  optionHelp: [
    '  -y, --yes           start without asking (required when not run from a terminal)',
    '      --timeout DUR   most time to wait for each job',
    '      --parallelism N independent resources changed at once (default 4)',
    '      --lock-timeout DUR wait this long for another apply to release the state (default 0)',
  ],
  examples: ['mlscale train -f mlscale.yaml --yes', 'mlscale train train-mnist --env prod --yes --json'],
  options: {
    yes: { type: 'boolean', short: 'y', default: false },
    timeout: { type: 'string' },
    parallelism: { type: 'string' },
    'lock-timeout': { type: 'string' },
  },
  maxPositionals: 100,
  run: async ({ values, positionals, context, output }) =>
    converge({ mode: 'train', values, targets: positionals, context, output }),
});
