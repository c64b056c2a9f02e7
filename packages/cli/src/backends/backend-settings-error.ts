import { basename } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import type { ConfiguredBackend, MlscaleConfig } from '../config/load-config.js';

/** `a.b[0].c` → `['a', 'b', 0, 'c']`; `(root)` → `[]`. */
function segments(path: string): (string | number)[] {
  if (path === '(root)' || path === '') return [];
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * A backend factory's `InvalidSpec` (its settings, as the adapter validated them) restated at the file's
 * lines: `mlscale.yaml:3:13: backends.aws.region: expected string, received number`, the way the rest
 * of the config's errors read. An unknown field is located where it is written. Other errors pass as
 * they are.
 */
export function locatedSettingsError(
  error: unknown,
  config: MlscaleConfig,
  backend: ConfiguredBackend,
): unknown {
  if (!MlscaleError.hasCode(error, 'InvalidSpec') || error.issues.length === 0) return error;
  const file = basename(config.path);
  const lines = error.issues.map((issue) => {
    const unknown = /unknown field "([^"]+)"/.exec(issue.message)?.[1];
    const path = [...segments(issue.path), ...(unknown ? [unknown] : [])];
    const position =
      config.locate(['backends', backend.name, ...path]) ??
      (config.environment
        ? config.locate(['environments', config.environment, 'backends', backend.name, ...path])
        : undefined);
    const where = position ? `${file}:${position.line}:${position.column}` : file;
    const field = ['backends', backend.name, ...path].map(String).join('.');
    return `${where}: ${field}: ${issue.message}`;
  });
  return new MlscaleError({
    code: 'InvalidSpec',
    message: `Invalid settings of backend '${backend.name}' (${backend.provider}):\n${lines.map((line) => `  ${line}`).join('\n')}`,
    issues: error.issues.map((issue) => ({ ...issue, path: `backends.${backend.name}.${issue.path}` })),
    cause: error,
  });
}
