import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (packages/cli). */
export const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
const distBin = join(packageDirectory, 'dist', 'bin.js');

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the CLI (and core, if it has no build) unless dist is newer than src. A lock folder keeps two
 * test files from building at once.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(tmpdir(), 'mlscale-cli-build.lock');
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Stale after two minutes: a test run that died mid-build.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    const coreDist = join(packageDirectory, '..', 'core', 'dist', 'index.js');
    if (!existsSync(coreDist))
      execFileSync('npx', ['tsup'], { cwd: join(packageDirectory, '..', 'core'), stdio: 'pipe' });
    const fresh =
      existsSync(distBin) && statSync(distBin).mtimeMs > newestSource(join(packageDirectory, 'src'));
    if (!fresh) execFileSync('npx', ['tsup'], { cwd: packageDirectory, stdio: 'pipe' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A fresh folder for one test's config, state and fake cloud. */
export function temporaryProject(prefix = 'mlscale-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Variables every run gets: no colour, not CI unless a test says so, and the real PATH. */
function baseEnvironment(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const { CI: _ci, FORCE_COLOR: _force, NO_COLOR: _no, MLSCALE_ENV: _environment, ...rest } = process.env;
  return { ...rest, ...extra };
}

/** Starts `node dist/bin.js ...args` in `cwd`. */
export function startCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): ChildProcess {
  return spawn(process.execPath, [distBin, ...args], {
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
