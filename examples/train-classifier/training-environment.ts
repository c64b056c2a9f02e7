import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** What the script reads from the clouds' container contract (SageMaker, Vertex, torchrun). */
export interface TrainingEnvironment {
  trainFile: string;
  testFile: string | undefined;
  modelDirectory: string;
  checkpointDirectory: string;
  outputDataDirectory: string;
  outputDirectory: string;
  hyperparameters: Record<string, unknown>;
  rank: number;
  worldSize: number;
  masterAddress: string;
  masterPort: number;
}

/**
 * Reads the environment a SageMaker training toolkit, Vertex custom training or torchrun gives a process,
 * with the same fallbacks a script written for those platforms would use.
 */
export async function readTrainingEnvironment(environment = process.env): Promise<TrainingEnvironment> {
  const trainChannel = environment.SM_CHANNEL_TRAIN;
  if (!trainChannel) throw new Error('SM_CHANNEL_TRAIN is not set: the job needs a "train" input channel');
  const testChannel = environment.SM_CHANNEL_TEST;
  const outputDirectory = environment.SM_OUTPUT_DIR ?? '/opt/ml/output';
  return {
    trainFile: await firstCsv(trainChannel),
    testFile: testChannel ? await firstCsv(testChannel) : undefined,
    modelDirectory: environment.SM_MODEL_DIR ?? environment.AIP_MODEL_DIR ?? '/opt/ml/model',
    checkpointDirectory: environment.AIP_CHECKPOINT_DIR ?? '/opt/ml/checkpoints',
    outputDataDirectory: environment.SM_OUTPUT_DATA_DIR ?? join(outputDirectory, 'data'),
    outputDirectory,
    hyperparameters: JSON.parse(environment.SM_HPS ?? '{}') as Record<string, unknown>,
    rank: Number(environment.RANK ?? 0),
    worldSize: Number(environment.WORLD_SIZE ?? 1),
    masterAddress: environment.MASTER_ADDR ?? '127.0.0.1',
    masterPort: Number(environment.MASTER_PORT ?? 29500),
  };
}

/** A number hyperparameter (cloud platforms pass them as strings). */
export function numberHyperparameter(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed))
    throw new Error(`hyperparameter ${name}: expected a number, got ${String(value)}`);
  return parsed;
}

async function firstCsv(directory: string): Promise<string> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.csv')).sort();
  if (names.length === 0) throw new Error(`no .csv file in the channel directory ${directory}`);
  return join(directory, names[0]!);
}
