import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConformanceCloud } from '@mlscale/core/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, startCli } from './cli-harness.js';

/** A cloud emulator the CLI can be pointed at from a config file, and the emulator's view for checks. */
export interface KillTestCloud {
  cloud: ConformanceCloud;
  /** Variables the config file reads (`${env:…}` or `process.env`). */
  env: Record<string, string>;
  /** The config file's name and text, for one deployment of `name` serving model `version`. */
  config(name: string, version: 1 | 2): { file: string; text: string };
  /** The autoscaling bounds the config asks for. */
  autoscaling: { minReplicas: number; maxReplicas: number };
}

/**
 * The suite for one cloud: `mlscale apply` of an autoscaled deployment SIGKILLed right after each of
 * several mutating requests of a create and then of a model update, each time run again: InService with
 * autoscaling, plan clean, and destroy leaves nothing.
 */
export function describeKillAndRerun(
  cloudName: string,
  options: {
    /** Starts the emulator; `close` stops it. */
    start: () => Promise<{ target: KillTestCloud; close: () => Promise<void> }>;
    /** A fresh project folder (with what the config's models need). */
    newDirectory: () => string;
  },
): void {
  describe(`mlscale apply killed with SIGKILL against the ${cloudName} emulator, then run again`, () => {
    let started: { target: KillTestCloud; close: () => Promise<void> } | undefined;
    const directories: string[] = [];
    const newDirectory = () => {
      const directory = options.newDirectory();
      directories.push(directory);
      return directory;
    };
    beforeAll(async () => {
      await ensureBuilt();
      started = await options.start();
    }, 120_000);
    afterAll(async () => {
      await started?.close();
      for (const directory of directories) rmSync(directory, { recursive: true, force: true });
    });
    it(
      'an autoscaled create, killed after each of several mutating requests',
      () => killDuringCreate(newDirectory, started!.target),
      300_000,
    );
    it(
      'a model update, killed after each of several mutating requests',
      () => killDuringUpdate(newDirectory, started!.target),
      300_000,
    );
  });
}

/** At most this many kill points per change: the first, the last and one between. */
const killPoints = 3;

/** Runs the CLI to the end in `directory` and expects it to succeed. */
async function cli(directory: string, target: KillTestCloud, args: string[], expected = 0) {
  const result = await runCli(args, { cwd: directory, env: target.env, timeoutMs: 120_000 });
  expect(result.code, `mlscale ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expected);
  return result;
}

function writeConfig(directory: string, target: KillTestCloud, name: string, version: 1 | 2): void {
  const { file, text } = target.config(name, version);
  writeFileSync(join(directory, file), text);
}

/** The distinct mutating requests of one apply, in order. */
async function learnApply(directory: string, target: KillTestCloud, args: string[]): Promise<string[]> {
  target.cloud.resetRequests();
  await cli(directory, target, args);
  return [...new Set(target.cloud.requests().filter((operation) => target.cloud.isMutating(operation)))];
}

/** Up to `killPoints` operations spread over the sequence, first and last included. */
function spread(operations: string[]): string[] {
  if (operations.length <= killPoints) return operations;
  const chosen = new Set<string>();
  for (let index = 0; index < killPoints; index++) {
    chosen.add(operations[Math.round((index * (operations.length - 1)) / (killPoints - 1))]!);
  }
  return [...chosen];
}

/** Starts `mlscale apply --yes` and SIGKILLs it right after the cloud has carried out `operation`. */
async function applyKilledAfter(directory: string, target: KillTestCloud, operation: string): Promise<void> {
  const child = startCli(['apply', '--yes'], { cwd: directory, env: target.env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const closed = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(signal ?? code)),
  );
  // The emulator calls this after it acted and before it answers: the process dies mid-request.
  const stop = target.cloud.onRequest((seen) => {
    if (seen === operation) child.kill('SIGKILL');
  });
  child.stdin?.end();
  try {
    expect(await closed, `apply was to be killed after ${operation}\n${output}`).toBe('SIGKILL');
  } finally {
    stop();
  }
}

/**
 * After a re-run: the plan is clean (the file's spec is recorded and has converged: InService), autoscaling
 * is in force as the cloud itself reports it, and destroy leaves nothing behind.
 */
async function expectConvergedThenDestroy(
  directory: string,
  target: KillTestCloud,
  name: string,
  where: string,
) {
  await cli(directory, target, ['plan', '--detailed-exitcode']);
  expect(await target.cloud.autoscaling(name), `${where}: autoscaling at the cloud`).toEqual(
    target.autoscaling,
  );
  await cli(directory, target, ['destroy', '--yes']);
  expect(await target.cloud.resources(name), `${where}: left behind`).toEqual([]);
}

/**
 * `mlscale apply` of an autoscaled deployment, SIGKILLed right after each of several mutating requests of
 * the create, then run again: InService with autoscaling, plan clean, and destroy leaves nothing.
 */
async function killDuringCreate(newDirectory: () => string, target: KillTestCloud): Promise<void> {
  const probe = newDirectory();
  writeConfig(probe, target, 'kill-probe-create', 1);
  const operations = spread(await learnApply(probe, target, ['apply', '--yes']));
  await cli(probe, target, ['destroy', '--yes']);
  for (const [index, operation] of operations.entries()) {
    const directory = newDirectory();
    const name = `kill-create-${index}`;
    const where = `killed after ${operation} of a create`;
    writeConfig(directory, target, name, 1);
    await applyKilledAfter(directory, target, operation);
    const rerun = await cli(directory, target, ['apply', '--yes']);
    expect(rerun.stderr, where).toContain('Took over the state lock');
    await expectConvergedThenDestroy(directory, target, name, where);
  }
}

/** The same for a model update of a running autoscaled deployment. */
async function killDuringUpdate(newDirectory: () => string, target: KillTestCloud): Promise<void> {
  const probe = newDirectory();
  writeConfig(probe, target, 'kill-probe-update', 1);
  await cli(probe, target, ['apply', '--yes']);
  writeConfig(probe, target, 'kill-probe-update', 2);
  const operations = spread(await learnApply(probe, target, ['apply', '--yes']));
  await cli(probe, target, ['destroy', '--yes']);
  for (const [index, operation] of operations.entries()) {
    const directory = newDirectory();
    const name = `kill-update-${index}`;
    const where = `killed after ${operation} of an update`;
    writeConfig(directory, target, name, 1);
    await cli(directory, target, ['apply', '--yes']);
    writeConfig(directory, target, name, 2);
    await applyKilledAfter(directory, target, operation);
    await cli(directory, target, ['apply', '--yes']);
    // A clean plan means the new model's spec is recorded and serves (InService, converged).
    await expectConvergedThenDestroy(directory, target, name, where);
  }
}
