import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (packages/cli). */
export const packageDirectory = fileURLToPath(new URL('..', import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let entry = '';

/**
 * Builds the CLI from the current source into a folder of this test file's own (not dist/), so a build
 * elsewhere (`pnpm build`, another test file) can never swap files under a running test.
 * Builds core and local-gpu first if they have no build: the CLI imports them at run time.
 */
export async function ensureBuilt(): Promise<void> {
  for (const dependency of ['core', 'local-gpu']) {
    const directory = join(packageDirectory, '..', dependency);
    if (!existsSync(join(directory, 'dist', 'index.js'))) {
      execFileSync('npx', ['tsup'], { cwd: directory, stdio: 'pipe' });
    }
  }
  // Under node_modules/.cache: ignored by git and the linter, and the CLI still resolves its dependencies.
  const outDirectory = join(
    packageDirectory,
    'node_modules',
    '.cache',
    'mlscale-cli-tests',
    `build-${process.pid}-${Date.now()}`,
  );
  execFileSync('npx', ['tsup', '--no-dts', '--out-dir', outDirectory], {
    cwd: packageDirectory,
    stdio: 'pipe',
  });
  entry = join(outDirectory, 'bin.js');
}

/** Removes this test file's build. */
export function removeBuild(): void {
  if (entry) rmSync(dirname(entry), { recursive: true, force: true });
}

/** A fresh folder for one test's config, state and fake cloud. */
export function temporaryProject(prefix = 'mlscale-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A fresh folder inside this package, for a `mlscale.config.ts` that imports workspace packages
 * (`@mlscale/gcp/emulator`, ...): they resolve from the package's node_modules.
 */
export function projectInPackage(prefix = 'mlscale-cli-'): string {
  const parent = join(packageDirectory, 'node_modules', '.cache', 'mlscale-cli-tests');
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, prefix));
}

/** Variables every run gets: no colour, not CI unless a test says so, and the real PATH. */
function baseEnvironment(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const { CI: _ci, FORCE_COLOR: _force, NO_COLOR: _no, MLSCALE_ENV: _environment, ...rest } = process.env;
  return { ...rest, ...extra };
}

/** Starts the built `mlscale` (`node <build>/bin.js ...args`) in `cwd`. */
export function startCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): ChildProcess {
  if (!entry) throw new Error('call ensureBuilt() first');
  return spawn(process.execPath, [entry, ...args], {
    cwd: options.cwd,
    env: baseEnvironment(options.env ?? {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs the built CLI to the end (killed after `timeoutMs`). */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}
