import { join } from 'node:path';

/** Where everything of one job lives, laid out like SageMaker's `/opt/ml`. */
export interface JobPaths {
  directory: string;
  record: string;
  input: string;
  inputData: string;
  inputConfig: string;
  hyperparameters: string;
  inputDataConfig: string;
  resourceConfig: string;
  model: string;
  output: string;
  outputData: string;
  failure: string;
  checkpoints: string;
  tensorboard: string;
  logs: string;
  logFile: string;
}

/** The paths of job `name` under `<root>/jobs/`. */
export function jobPaths(root: string, name: string): JobPaths {
  const directory = join(root, 'jobs', name);
  const input = join(directory, 'input');
  const inputConfig = join(input, 'config');
  const output = join(directory, 'output');
  const logs = join(directory, 'logs');
  return {
    directory,
    record: join(directory, 'job.json'),
    input,
    inputData: join(input, 'data'),
    inputConfig,
    hyperparameters: join(inputConfig, 'hyperparameters.json'),
    inputDataConfig: join(inputConfig, 'inputdataconfig.json'),
    resourceConfig: join(inputConfig, 'resourceconfig.json'),
    model: join(directory, 'model'),
    output,
    outputData: join(output, 'data'),
    failure: join(output, 'failure'),
    checkpoints: join(directory, 'checkpoints'),
    tensorboard: join(output, 'tensorboard'),
    logs,
    logFile: join(logs, 'job.log'),
  };
}

/** `<root>/jobs`. */
export function jobsDirectory(root: string): string {
  return join(root, 'jobs');
}
