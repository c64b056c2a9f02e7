import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalModelRegistry } from '../../src/registry/index.js';
import { runTypeScript, temporaryDirectory } from '../training/training-fixtures.js';

const script = new URL('./fixtures/register-many.ts', import.meta.url).pathname;

describe('two processes registering at once', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };

  beforeAll(async () => {
    directory = await temporaryDirectory('concurrent-registry');
  });

  afterAll(async () => {
    await directory.remove();
  });

  it('lands every version of both models intact, with no version given twice', async () => {
    const root = join(directory.path, 'root');
    const count = 10;
    const barrier = directory.path;
    const running = Promise.all(
      ['alpha', 'beta'].map((label) =>
        runTypeScript(
          script,
          [root, label, String(count), join(directory.path, `scratch-${label}`), barrier],
          {
            timeoutMs: 90_000,
          },
        ),
      ),
    );
    // Both processes wait at the barrier, so their registrations overlap.
    for (let waited = 0; waited < 600; waited++) {
      const ready = await Promise.all(
        ['alpha', 'beta'].map((label) =>
          access(join(barrier, `ready-${label}`)).then(
            () => true,
            () => false,
          ),
        ),
      );
      if (ready.every(Boolean)) break;
      await delay(100);
    }
    await writeFile(join(barrier, 'go'), '');
    const [alpha, beta] = await running;
    expect(alpha?.code, alpha?.stderr).toBe(0);
    expect(beta?.code, beta?.stderr).toBe(0);
    const written = [...JSON.parse(alpha!.stdout), ...JSON.parse(beta!.stdout)] as {
      name: string;
      version: number;
      sha256: string;
      content: string;
    }[];

    const registry = createLocalModelRegistry({ root });
    for (const name of ['alpha', 'beta']) {
      expect(written.filter((entry) => entry.name === name).map((entry) => entry.version)).toEqual(
        Array.from({ length: count }, (_, index) => index + 1),
      );
    }
    const shared = written.filter((entry) => entry.name === 'shared');
    expect(shared.map((entry) => entry.version).sort((left, right) => left - right)).toEqual(
      Array.from({ length: 2 * count }, (_, index) => index + 1),
    );
    // Every version's metadata names its own artifact, and the artifact is intact.
    for (const entry of written) {
      const version = await registry.doGet(entry.name, entry.version, {});
      expect(version?.sha256).toBe(entry.sha256);
      const path = await registry.resolve(entry.name, entry.version);
      expect(await readFile(path, 'utf8')).toBe(entry.content);
    }
    const listed = [];
    for await (const version of registry.doList('shared', {})) listed.push(version.version);
    expect(listed).toHaveLength(2 * count);
  });
});
