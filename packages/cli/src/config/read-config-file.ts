import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlscaleError } from '@mlscale/core';
import { LineCounter, parseDocument } from 'yaml';
import { type SourceLocator, yamlSourceLocator } from './source-locator.js';

/** Names looked for, in order, when no `--file` is given. */
export const defaultConfigFileNames = [
  'mlscale.config.ts',
  'mlscale.config.mts',
  'mlscale.config.js',
  'mlscale.config.mjs',
  'mlscale.yaml',
  'mlscale.yml',
  'mlscale.json',
] as const;

/** A config file's raw contents and how to find a field's line in it. */
export interface RawConfigFile {
  /** Absolute path. */
  path: string;
  /** The parsed value, before interpolation and validation. */
  value: unknown;
  locate: SourceLocator;
}

/** Finds the config file: the one named, or the first default name in `directory`. */
export function findConfigFile(directory: string, named: string | undefined): string {
  if (named) {
    const path = resolve(directory, named);
    if (!existsSync(path)) throw invalid(`Config file not found: ${path}`);
    return path;
  }
  for (const name of defaultConfigFileNames) {
    const path = resolve(directory, name);
    if (existsSync(path)) return path;
  }
  throw invalid(
    `No config file in ${directory}: expected one of ${defaultConfigFileNames.join(', ')} (or pass --file).`,
  );
}

/** Reads and parses a YAML, JSON or TypeScript/JavaScript config file. */
export async function readConfigFile(path: string): Promise<RawConfigFile> {
  const extension = extname(path).toLowerCase();
  if (extension === '.yaml' || extension === '.yml' || extension === '.json') {
    const text = await readFile(path, 'utf8');
    return parseTextConfig(path, text, extension === '.json');
  }
  if (['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].includes(extension)) {
    return { path, value: await importModuleConfig(path), locate: () => undefined };
  }
  throw invalid(`Unsupported config file type '${extension}' (${basename(path)}): use .ts, .yaml or .json.`);
}

/** Parses YAML or JSON text; syntax errors name the file, line and column. */
export function parseTextConfig(path: string, text: string, json: boolean): RawConfigFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const name = basename(path);
  const first = document.errors[0];
  if (first) {
    const where = first.linePos?.[0] ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    const [headline = first.message, ...frame] = first.message.split('\n');
    const summary = headline.replace(/ at line \d+, column \d+:?$/, '');
    const excerpt = frame
      .filter((line) => line.trim())
      .map((line) => `    ${line}`)
      .join('\n');
    throw invalid(
      `${name}${where}: invalid ${json ? 'JSON' : 'YAML'}: ${summary}${excerpt ? `\n${excerpt}` : ''}`,
      [{ path: where ? `line ${first.linePos?.[0]?.line}` : '(root)', message: summary ?? first.message }],
    );
  }
  if (json) {
    // YAML accepts more than JSON does; JSON.parse says whether it is JSON, yaml's nodes say where things are.
    try {
      JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      const offset = /position (\d+)/.exec(message ?? '')?.[1];
      throw invalid(
        `${name}${offset === undefined ? '' : positionText(text, Number(offset))}: invalid JSON: ${message}`,
      );
    }
  }
  return {
    path,
    value: document.toJS({ maxAliasCount: 100 }) ?? {},
    locate: yamlSourceLocator(document, lineCounter),
  };
}

function positionText(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `:${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}

async function importModuleConfig(path: string): Promise<unknown> {
  const { createJiti } = await import('jiti');
  // A config written in a folder without @mlscale/cli installed (a global install) still finds defineConfig.
  const self = selfEntry();
  const jiti = createJiti(path, {
    interopDefault: true,
    moduleCache: false,
    fsCache: false,
    ...(self ? { alias: { '@mlscale/cli': self } } : {}),
  });
  let loaded: unknown;
  try {
    loaded = await jiti.import(path, { default: true });
  } catch (error) {
    throw invalid(
      `${basename(path)}: could not load: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const value = typeof loaded === 'function' ? await (loaded as () => unknown)() : loaded;
  if (value === null || typeof value !== 'object') {
    throw invalid(
      `${basename(path)}: expected a default export of defineConfig({ ... }), got ${typeof value}`,
    );
  }
  return value;
}

function invalid(message: string, issues?: { path: string; message: string }[]): MlscaleError {
  return new MlscaleError({ code: 'InvalidSpec', message, ...(issues ? { issues } : {}) });
}

/** This package's built entry, when running from dist (so `import { defineConfig } from '@mlscale/cli'` resolves). */
function selfEntry(): string | undefined {
  try {
    const candidate = fileURLToPath(new URL('./index.js', import.meta.url));
    // Bundled, this code sits beside the package's index.js; from source (src/config/) there is none.
    return existsSync(candidate) ? candidate : undefined;
  } catch {
    return undefined;
  }
}
