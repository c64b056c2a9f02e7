export * from './backends/index.js';
export * from './commands/command-context.js';
export { type DefinedCommand, defineCommand } from './commands/define-command.js';
export { scriptedCommands } from './commands/scripted-commands.js';
export * from './config/index.js';
export * from './cost/index.js';
export * from './export/index.js';
export * from './plan/index.js';
export * from './schema/index.js';
export * from './state/index.js';

/** The command's name. */
export const commandName = 'mlscale' as const;
