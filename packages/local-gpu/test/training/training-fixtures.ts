import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainingJobStatus } from '@mlscale/core';
import { generateBlobs, writeCsv } from '../../../../examples/train-classifier/dataset.js';
import type { ProcessRecord, SecondaryStatusTransition } from '../../src/training/job-record.js';

/** Scripts the tests run as training processes. */
export const fixturesDirectory = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The example training script's folder (its tsconfig maps workspace packages to sources for tsx). */
export const exampleDirectory = fileURLToPath(
  new URL('../../../../examples/train-classifier/', import.meta.url),
);
/** packages/local-gpu: tsx resolves from here for child programs written in TypeScript. */
export const packageDirectory = fileURLToPath(new URL('../../', import.meta.url));

/** `node <fixture>` as a job command. */
export function fixtureCommand(name: string): string[] {
  return [process.execPath, join(fixturesDirectory, name)];
}

/** The example training script as a job command, with the folder it runs in. */
export const exampleJob = {
  command: [process.execPath, '--import', 'tsx', 'train.ts'],
  providerOptions: { local: { workingDirectory: exampleDirectory } },
};

/** A fresh directory under the OS temp folder, and its removal. */
export async function temporaryDirectory(
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `mlscale-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes the example's seeded dataset: `train/train.csv` (800 rows) and `test/test.csv` (200 rows). */
export async function writeExampleDataset(
  directory: string,
  seed = 3,
): Promise<{ train: string; test: string }> {
  const all = generateBlobs({ seed, samples: 1000, features: 4, classes: 3, spread: 1 });
  const train = join(directory, 'train');
  const test = join(directory, 'test');
  await mkdir(train, { recursive: true });
  await mkdir(test, { recursive: true });
  await writeCsv(join(train, 'train.csv'), {
    features: all.features.slice(0, 800),
    labels: all.labels.slice(0, 800),
  });
  await writeCsv(join(test, 'test.csv'), {
    features: all.features.slice(800),
    labels: all.labels.slice(800),
  });
  return { train, test };
}

/** Runs a TypeScript program in a child process through tsx, workspace packages mapped to sources. */
export function runTypeScript(
  script: string,
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: packageDirectory,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(fixturesDirectory, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The secondary statuses a job went through, in order. */
export function transitionsOf(status: TrainingJobStatus | undefined): string[] {
  const transitions = (status?.details?.secondaryStatusTransitions ?? []) as SecondaryStatusTransition[];
  return transitions.map((transition) => transition.status);
}

/** The processes of a job's last attempt. */
export function processesOf(status: TrainingJobStatus | undefined): ProcessRecord[] {
  return (status?.details?.processes ?? []) as ProcessRecord[];
}
