import type { BackendResolver } from '../backends/backend-pool.js';

/** Something lines are written to (process.stdout, or a buffer in tests). */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What a command gets besides its arguments: where it runs and where it writes. */
export interface CommandContext {
  /** Folder the command runs in (config files are looked up here). */
  cwd: string;
  /** Environment variables (`${env:NAME}`, CI, NO_COLOR, MLSCALE_ENV, MLSCALE_ACTOR). */
  env: Readonly<Record<string, string | undefined>>;
  stdout: OutputStream;
  stderr: OutputStream;
  /** For `--data -` and the apply confirmation. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborted on Ctrl-C: long waits stop, state keeps what was done. */
  signal?: AbortSignal;
  /** Builds backends by name; tests inject their own. */
  resolveBackend?: BackendResolver;
  /** How often long waits poll backends (default: short for local, core's gentler default for clouds). */
  polling?: { minDelayMs?: number; maxDelayMs?: number };
}

/** A CLI command: parses its own arguments and resolves to the process exit code. */
export type Command = (args: string[], context: CommandContext) => Promise<number>;

/** The exit codes every command uses. */
export const exitCodes = {
  ok: 0,
  failed: 1,
  /** Bad usage or an invalid config file. */
  usage: 2,
  /** `plan --detailed-exitcode`: the plan has changes (Terraform's code; errors are then 1). */
  changes: 2,
  /** Ended by SIGINT (Ctrl-C), after draining: 128 + 2. */
  interrupted: 130,
  /** Ended by SIGTERM, after draining: 128 + 15. */
  terminated: 143,
} as const;

/** A context over the real process. */
export function processContext(signal?: AbortSignal): CommandContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    ...(signal ? { signal } : {}),
  };
}
