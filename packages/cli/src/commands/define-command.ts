import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MlscaleError, redact, redactText } from '@mlscale/core';
import { colorEnabled, type Palette, palette } from '../output/terminal.js';
import { closestName } from './closest-name.js';
import { type Command, type CommandContext, exitCodes } from './command-context.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Options every scripted-deployment command takes. */
export const commonOptions = {
  file: { type: 'string', short: 'f' },
  env: { type: 'string', short: 'e' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  'no-color': { type: 'boolean', default: false },
} as const satisfies OptionsConfig;

const commonHelp = [
  '  -f, --file FILE     config file (default: mlscale.config.ts, mlscale.yaml or mlscale.json here)',
  "  -e, --env NAME      environment from the file's `environments` (default: $MLSCALE_ENV)",
  '      --json          machine-readable output on stdout',
  '      --no-color      no colour (also off when not a terminal, under CI, or with NO_COLOR)',
  '  -h, --help          this help',
];

/** Where a command writes: plain lines, or one JSON document with `--json`. */
export interface CommandOutput {
  json: boolean;
  color: Palette;
  /** A line on stdout (human output only; ignored with --json). */
  line(text?: string): void;
  /** A line on stderr (progress and diagnostics; shown with --json too, keeping stdout parseable). */
  note(text: string): void;
  /** Writes `value` as JSON on stdout, secrets redacted. */
  result(value: unknown): void;
}

/** A command's definition: its help text and what it does. */
export interface CommandDefinition<Options extends OptionsConfig> {
  name: string;
  summary: string;
  usage: string;
  /** Its own options' help lines. */
  optionHelp: string[];
  examples: string[];
  options: Options;
  /** Most positional arguments allowed (default 0). */
  maxPositionals?: number;
  /** Fewest positional arguments (default 0). */
  minPositionals?: number;
  run(input: {
    values: ParsedValues<Options & typeof commonOptions>;
    positionals: string[];
    context: CommandContext;
    output: CommandOutput;
  }): Promise<number>;
}

export type ParsedValues<Options extends OptionsConfig> = {
  [Key in keyof Options]?: Options[Key] extends { type: 'boolean' }
    ? boolean
    : Options[Key] extends { multiple: true }
      ? string[]
      : string;
};

/** A command with its help attached, for the dispatcher's list. */
export type DefinedCommand = Command & { commandName: string; summary: string; help: string };

/** Wraps a definition into a command: argument parsing, --help, error → exit code mapping. */
export function defineCommand<Options extends OptionsConfig>(
  definition: CommandDefinition<Options>,
): DefinedCommand {
  const help = [
    `${definition.summary}`,
    '',
    `Usage: ${definition.usage}`,
    '',
    'Options:',
    ...definition.optionHelp,
    ...commonHelp,
    '',
    'Examples:',
    ...definition.examples.map((example) => `  ${example}`),
    '',
    'Exit codes: 0 ok, 1 failed, 2 usage or invalid config (with plan --detailed-exitcode: 2 changes, 1 any error), 130 after Ctrl-C, 143 after SIGTERM.',
  ].join('\n');

  const command = async (args: string[], context: CommandContext): Promise<number> => {
    const options = { ...commonOptions, ...definition.options };
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
      const suggestion = unknown?.startsWith('--')
        ? closestName(unknown.slice(2), Object.keys(options))
        : undefined;
      context.stderr.write(
        `mlscale ${definition.name}: ${message}${suggestion ? `\nDid you mean --${suggestion}?` : ''}\nRun 'mlscale ${definition.name} --help' for usage.\n`,
      );
      return exitCodes.usage;
    }
    const values = parsed.values as ParsedValues<Options & typeof commonOptions>;
    if (values.help) {
      context.stdout.write(`${help}\n`);
      return exitCodes.ok;
    }
    const json = values.json === true;
    const output: CommandOutput = {
      json,
      color: palette(!json && colorEnabled(context, values['no-color'] === true)),
      line: (text = '') => {
        if (!json) context.stdout.write(`${redactText(text)}\n`);
      },
      note: (text) => context.stderr.write(`${redactText(text)}\n`),
      result: (value) => context.stdout.write(`${JSON.stringify(redact(value), null, 2)}\n`),
    };
    const count = parsed.positionals.length;
    if (count < (definition.minPositionals ?? 0) || count > (definition.maxPositionals ?? 0)) {
      context.stderr.write(
        `mlscale ${definition.name}: ${count < (definition.minPositionals ?? 0) ? 'missing arguments' : `unexpected argument '${parsed.positionals.at(-1)}'`}\nUsage: ${definition.usage}\n`,
      );
      return exitCodes.usage;
    }
    try {
      return await definition.run({ values, positionals: parsed.positionals, context, output });
    } catch (error) {
      return reportError(error, output, context);
    }
  };
  return Object.assign(command, { commandName: definition.name, summary: definition.summary, help });
}

/** Prints an error (JSON with --json) and maps it to an exit code. */
export function reportError(error: unknown, output: CommandOutput, context: CommandContext): number {
  const problem = MlscaleError.isInstance(error) ? error : undefined;
  const code = problem?.code ?? 'Unknown';
  const message = redactText(error instanceof Error ? error.message : String(error));
  if (output.json)
    output.result({
      ok: false,
      error: { code, message, ...(problem?.issues.length ? { issues: problem.issues } : {}) },
    });
  context.stderr.write(`${output.color.red('Error:')} ${message}\n`);
  return code === 'InvalidSpec' ? exitCodes.usage : exitCodes.failed;
}

/** Splits `--target a,b --target c` into names. */
export function listValues(values: string[] | string | undefined): string[] {
  const list = Array.isArray(values) ? values : values ? [values] : [];
  return list
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}
