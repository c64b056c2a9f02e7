#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { closestName } from './commands/closest-name.js';
import { type Command, type CommandContext, exitCodes, processContext } from './commands/command-context.js';

/** A command and its one-line summary, for `mlscale help`. */
type ListedCommand = Command & { summary: string };

/**
 * The commands, in groups that load only when asked for (one file per command under commands/), so
 * `mlscale serve` starts without loading the config and cloud tooling. Add a group to add commands.
 */
const commandGroups: (() => Promise<Readonly<Record<string, ListedCommand>>>)[] = [
  async () => ({ serve: (await import('./commands/serve.js')).serveCommand }),
  async () => ({ demo: (await import('./commands/demo.js')).demoCommand }),
  async () => (await import('./commands/scripted-commands.js')).scriptedCommands,
];

/** The command called `name`, loading groups in order until one has it. */
async function findCommand(name: string): Promise<ListedCommand | undefined> {
  for (const load of commandGroups) {
    const group = await load();
    if (Object.hasOwn(group, name)) return group[name];
  }
  return undefined;
}

/** Every command by name. */
export async function allCommands(): Promise<Record<string, ListedCommand>> {
  const groups = await Promise.all(commandGroups.map((load) => load()));
  return Object.assign({}, ...groups);
}

async function usage(): Promise<string> {
  const commands = await allCommands();
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'mlscale: deploy, scale, train and monitor ML models.',
    '',
    'Usage: mlscale <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'mlscale <command> --help' for a command's options.",
  ].join('\n');
}

/** Runs `mlscale` with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], context: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? await findCommand(rest[0]) : undefined;
    if (topic) return topic(['--help'], context);
    context.stdout.write(`${await usage()}\n`);
    return name === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    context.stdout.write(`mlscale ${await packageVersion()}\n`);
    return exitCodes.ok;
  }
  const command = await findCommand(name);
  if (!command) {
    const suggestion = closestName(name, Object.keys(await allCommands()));
    context.stderr.write(
      `mlscale: unknown command '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''}\n\n${await usage()}\n`,
    );
    return exitCodes.usage;
  }
  return command(rest, context);
}

/**
 * Runs as the process: SIGTERM (containers, process managers) and Ctrl-C abort the command, which drains.
 * A second signal does not cut the drain short (the default action would kill in-flight work): it is
 * only acknowledged.
 */
function runAsProcess(): void {
  // The AWS SDK versions @mlscale/aws pins support Node 20; their notice that later releases will need
  // Node 22 is 9 lines on every command. Set the variable to anything else to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  let received: 'SIGTERM' | 'SIGINT' | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) {
        process.stderr.write(`mlscale: received ${signal} again; still draining in-flight requests\n`);
        return;
      }
      received = signal;
      controller.abort(new Error(`received ${signal}`));
    });
  }
  main(process.argv.slice(2), processContext(controller.signal)).then(
    (finished) => {
      // A command a signal ended (after draining, or after recording what was in flight) says so, as
      // shells expect: 128 + the signal's number.
      const code =
        received === undefined
          ? finished
          : received === 'SIGINT'
            ? exitCodes.interrupted
            : exitCodes.terminated;
      process.exitCode = code;
      // Servers and workers are closed by now; nothing left over (a keep-alive socket) may hold the exit.
      setTimeout(() => process.exit(code), 500).unref();
    },
    (error: unknown) => {
      process.stderr.write(`mlscale: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(exitCodes.failed);
    },
  );
}

/** This package's version, from its package.json (one folder above `src/` and `dist/`). */
async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

// Imported (by tests) it only defines; run as `mlscale` it runs.
if (isEntryPoint()) runAsProcess();

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
