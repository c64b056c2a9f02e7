import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** One process trying to take the state lock; it holds it long enough for every other taker to try. */
const taker = `
const { openStateSession } = await import(process.argv[1]);
try {
  const session = await openStateSession(process.argv[2], 'race', undefined, 'apply');
  process.stdout.write('held');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await session.close();
} catch (error) {
  process.stdout.write(/State is locked by/.test(String(error)) ? 'refused' : String(error));
}
`;

function run(directory: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', taker, dist, directory], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('close', () => resolve(out));
  });
}

// Processes racing for real (their own event loops and timing), through the built package.
describe.skipIf(!existsSync(dist))('the state lock, raced by processes', () => {
  it('goes to exactly one of eight processes taking over a stale lock, trial after trial', async () => {
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
    );
    for (let trial = 0; trial < 5; trial++) {
      const directory = mkdtempSync(join(tmpdir(), 'mlscale-lock-race-'));
      directories.push(directory);
      mkdirSync(join(directory, '.mlscale', 'state'), { recursive: true });
      writeFileSync(
        join(directory, '.mlscale', 'state', 'race.json.lock'),
        JSON.stringify({ pid: dead, host: hostname(), command: 'apply', since: `trial ${trial}` }),
      );
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => run(directory)));
      expect(
        outcomes.filter((outcome) => outcome === 'held'),
        `trial ${trial}: ${outcomes.join(' ')}`,
      ).toHaveLength(1);
      expect(
        outcomes.filter((outcome) => outcome !== 'held'),
        `trial ${trial}`,
      ).toEqual(new Array(7).fill('refused'));
    }
  }, 120_000);
});
