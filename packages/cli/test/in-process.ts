import { Readable } from 'node:stream';
import type { BackendResolver } from '../src/backends/backend-pool.js';
import { main } from '../src/bin.js';
import type { CommandContext } from '../src/commands/command-context.js';
import { scriptedCommands } from '../src/commands/scripted-commands.js';

/** What an in-process command run printed and returned. */
export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one scripted command in this process, with captured output (faster than a subprocess). */
export async function runInProcess(
  args: string[],
  options: {
    cwd: string;
    env?: Record<string, string | undefined>;
    input?: string;
    resolveBackend?: BackendResolver;
    stdinIsTty?: boolean;
    polling?: CommandContext['polling'];
    /** Through `mlscale`'s own dispatcher (`main`), as the command line does: `--version`, unknown commands. */
    dispatch?: boolean;
  },
): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from([options.input ?? '']) as unknown as CommandContext['stdin'];
  if (options.stdinIsTty) stdin.isTTY = true;
  const context: CommandContext = {
    cwd: options.cwd,
    env: options.env ?? {},
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin,
    ...(options.resolveBackend ? { resolveBackend: options.resolveBackend } : {}),
    ...(options.polling ? { polling: options.polling } : {}),
  };
  if (options.dispatch) return { code: await main(args, context), stdout, stderr };
  const [name, ...rest] = args;
  const command = scriptedCommands[name ?? ''];
  if (!command) throw new Error(`no command ${name}`);
  return { code: await command(rest, context), stdout, stderr };
}
