/**
 * The packages as npm users get them: each one packed with `pnpm pack` (the command the release uses),
 * then the tarball checked by publint and by @arethetypeswrong/cli. Needs the built dist/ (`pnpm build`);
 * skipped without it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const packageNames = ['core', 'local-gpu', 'aws', 'azure', 'gcp', 'cli'] as const;
type PackageName = (typeof packageNames)[number];

const packageDirectory = (name: PackageName) => join(root, 'packages', name);
const built = packageNames.every(
  (name) =>
    existsSync(join(packageDirectory(name), 'dist/index.js')) &&
    existsSync(join(packageDirectory(name), 'dist/index.d.cts')),
);

/** The pnpm the workspace pins (`packageManager`), so the pack is the one a release makes. */
const pnpm = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager: string })
  .packageManager;

interface Packed {
  filename: string;
  files: string[];
}

interface ConditionalTarget {
  types: string;
  default: string;
}

interface PackedManifest {
  name: string;
  license?: string;
  repository?: { type: string; url: string; directory: string };
  homepage?: string;
  bugs?: { url: string };
  keywords?: string[];
  description?: string;
  files?: string[];
  exports: Record<string, string | { import: ConditionalTarget; require: ConditionalTarget }>;
}

interface AttwResolution {
  resolution?: { fileName: string; isJson: boolean };
}

interface AttwReport {
  analysis: {
    types: unknown;
    entrypoints: Record<string, { resolutions: Record<string, AttwResolution> }>;
    problems: ({ kind: string } & Record<string, unknown>)[];
  };
}

const packed = new Map<PackageName, Packed>();
let destination = '';

describe.skipIf(!built)('the published packages (pnpm pack → publint, attw)', () => {
  beforeAll(async () => {
    destination = mkdtempSync(join(tmpdir(), 'mlscale-pack-'));
    // One pnpm call packs all six (pnpm rewrites workspace: ranges to the versions it packs).
    const { stdout } = await run(
      'npx',
      ['-y', pnpm, '-r', '--filter', './packages/*', 'pack', '--json', '--pack-destination', destination],
      {
        cwd: root,
        shell: process.platform === 'win32',
        env: { ...process.env, npm_config_update_notifier: 'false' },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const reports = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
      name: string;
      filename: string;
      files: { path: string }[];
    }[];
    for (const report of reports)
      packed.set(report.name.replace('@mlscale/', '') as PackageName, {
        filename: report.filename,
        files: report.files.map((file) => file.path),
      });
    expect([...packed.keys()].sort()).toEqual([...packageNames].sort());
  }, 120_000);

  afterAll(() => {
    if (destination) rmSync(destination, { recursive: true, force: true });
  });

  describe.each(packageNames)('@mlscale/%s', (name) => {
    it('passes publint (strict, suggestions included), with no workspace: protocol left', async () => {
      const { filename, files } = packed.get(name)!;
      const tarball = readFileSync(filename);
      const { messages, pkg } = await publint({
        pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
        level: 'suggestion',
        strict: true,
      });
      expect(
        messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false })}`),
      ).toEqual([]);

      const manifest = pkg as PackedManifest;
      expect(JSON.stringify(manifest)).not.toContain('workspace:');
      expect(manifest.license).toBe('Apache-2.0');
      expect(files).toContain('LICENSE');
      expect(readFileSync(join(packageDirectory(name), 'LICENSE'), 'utf8')).toBe(
        readFileSync(join(root, 'LICENSE'), 'utf8'),
      );
      expect(manifest.repository).toEqual({
        type: 'git',
        url: 'git+https://github.com/mlscale/mlscale.git',
        directory: `packages/${name}`,
      });
      expect(manifest.homepage).toMatch(/^https:\/\//);
      expect(manifest.bugs?.url).toMatch(/^https:\/\//);
      expect(manifest.keywords?.length).toBeGreaterThan(0);
      expect(manifest.description).toBeTruthy();

      // Per-condition types on every code entry point: ESM types for import, CommonJS types for require.
      expect(manifest.exports['./package.json']).toBe('./package.json');
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        if (typeof target === 'string') continue;
        expect(Object.keys(target), subpath).toEqual(['import', 'require']);
        expect(target.import.types, subpath).toMatch(/\.d\.ts$/);
        expect(target.import.default, subpath).toMatch(/\.js$/);
        expect(target.require.types, subpath).toMatch(/\.d\.cts$/);
        expect(target.require.default, subpath).toMatch(/\.cjs$/);
        for (const file of [
          target.import.types,
          target.import.default,
          target.require.types,
          target.require.default,
        ])
          expect(files, subpath).toContain(file.slice(2));
      }
    }, 60_000);

    it('passes @arethetypeswrong/cli under every resolution (node10, node16 CJS and ESM, bundler)', async () => {
      const { filename } = packed.get(name)!;
      const attw = join(require.resolve('@arethetypeswrong/cli/package.json'), '../dist/index.js');
      // attw exits 1 when it finds a problem; the JSON report says which, so read it either way.
      const { stdout } = await run(process.execPath, [attw, filename, '--format', 'json'], {
        maxBuffer: 256 * 1024 * 1024,
      }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
      const { analysis } = JSON.parse(stdout) as AttwReport;
      expect(analysis.types).toBeTruthy();
      // e.g. FalseESM ("Masquerading as ESM"), CJSResolvesToESM, NoResolution (node10 subpaths), with where.
      expect(analysis.problems.map(({ kind, ...where }) => `${kind} ${JSON.stringify(where)}`)).toEqual([]);

      // Every export was analysed, and each one's types follow the importer: .d.cts from CJS, .d.ts from ESM.
      const manifest = JSON.parse(readFileSync(join(packageDirectory(name), 'package.json'), 'utf8')) as {
        exports: Record<string, unknown>;
      };
      expect(Object.keys(analysis.entrypoints).sort()).toEqual(Object.keys(manifest.exports).sort());
      for (const [subpath, entrypoint] of Object.entries(analysis.entrypoints)) {
        const cjs = entrypoint.resolutions['node16-cjs']?.resolution;
        const esm = entrypoint.resolutions['node16-esm']?.resolution;
        if (cjs?.isJson) continue;
        expect(cjs?.fileName, subpath).toMatch(/\.d\.cts$/);
        expect(esm?.fileName, subpath).toMatch(/\.d\.ts$/);
      }
    }, 60_000);
  });
});
