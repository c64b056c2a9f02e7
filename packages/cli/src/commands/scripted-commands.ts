import { applyCommand } from './apply.js';
import type { DefinedCommand } from './define-command.js';
import { destroyCommand } from './destroy.js';
import { exportCommand } from './export.js';
import { jobsCommand } from './jobs.js';
import { logsCommand } from './logs.js';
import { metricsCommand } from './metrics.js';
import { planCommand } from './plan.js';
import { predictCommand } from './predict.js';
import { stateCommand } from './state.js';
import { statusCommand } from './status.js';
import { trainCommand } from './train.js';

/** The scripted-deployment commands, by name, for the `mlscale` dispatcher. */
export const scriptedCommands: Readonly<Record<string, DefinedCommand>> = {
  plan: planCommand,
  apply: applyCommand,
  destroy: destroyCommand,
  status: statusCommand,
  state: stateCommand,
  logs: logsCommand,
  metrics: metricsCommand,
  predict: predictCommand,
  train: trainCommand,
  jobs: jobsCommand,
  export: exportCommand,
};
