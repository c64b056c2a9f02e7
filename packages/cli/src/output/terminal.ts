import type { CommandContext } from '../commands/command-context.js';

/** ANSI colours by role; empty when colour is off. */
export interface Palette {
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

/** Colour only on a terminal, never under CI, honouring NO_COLOR and --no-color. */
export function colorEnabled(context: CommandContext, noColorFlag = false): boolean {
  if (noColorFlag || context.env.NO_COLOR !== undefined || isCi(context)) return false;
  if (context.env.FORCE_COLOR !== undefined && context.env.FORCE_COLOR !== '0') return true;
  return context.stdout.isTTY === true;
}

/** Whether this runs in CI (most CI systems set CI=true). */
export function isCi(context: CommandContext): boolean {
  const value = context.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export function palette(enabled: boolean): Palette {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    red: wrap(31, 39),
    cyan: wrap(36, 39),
    bold: wrap(1, 22),
    dim: wrap(2, 22),
  };
}
