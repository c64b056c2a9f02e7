import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateSession, statePath } from './state-store.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function project(): string {
  const directory = mkdtempSync(join(tmpdir(), 'mlscale-state-'));
  directories.push(directory);
  mkdirSync(join(directory, '.mlscale', 'state'), { recursive: true });
  return directory;
}

/** The pid of a process that ran and has exited. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
  );
}

describe('the state lock', () => {
  it('is held by exactly one of many takers of a stale lock, in every trial', async () => {
    const dead = deadPid();
    for (let trial = 0; trial < 30; trial++) {
      const directory = project();
      const lockPath = `${statePath(directory, 'race', undefined)}.lock`;
      writeFileSync(
        lockPath,
        JSON.stringify({
          pid: dead,
          host: hostname(),
          command: 'apply',
          since: `2026-01-01T00:00:${trial}Z`,
        }),
      );
      const takers = await Promise.allSettled(
        Array.from({ length: 8 }, () => openStateSession(directory, 'race', undefined, 'apply')),
      );
      const holders = takers.filter((taker) => taker.status === 'fulfilled');
      expect(holders, `trial ${trial}`).toHaveLength(1);
      for (const refused of takers.filter((taker) => taker.status === 'rejected')) {
        expect(String((refused as PromiseRejectedResult).reason)).toMatch(
          /State is locked by 'apply' \(pid /,
        );
      }
      const session = (holders[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof openStateSession>>>)
        .value;
      // The winner reports the dead holder unless it came after the stale lock was gone.
      expect([dead, undefined]).toContain(session.staleLockFrom?.pid);
      expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
      await session.close();
      expect(existsSync(lockPath)).toBe(false);
      expect(existsSync(`${lockPath}.takeover`)).toBe(false);
    }
  });
});

describe('a damaged state file', () => {
  it('is named with what is wrong, left as it is, and leaves no lock behind', async () => {
    const directory = project();
    const path = statePath(directory, 'damaged', undefined);
    const damaged = JSON.stringify({
      version: 1,
      project: 'damaged',
      environment: null,
      serial: 3,
      updatedAt: 'x',
      resources: {},
      inFlight: 'oops',
    });
    writeFileSync(path, damaged);
    await expect(openStateSession(directory, 'damaged', undefined, 'apply')).rejects.toMatchObject({
      code: 'Conflict',
      message: expect.stringMatching(
        /^State file .*damaged\.json is damaged \(inFlight: .*\)\. mlscale left it as it is/,
      ),
    });
    expect(readFileSync(path, 'utf8')).toBe(damaged);
    expect(existsSync(`${path}.lock`)).toBe(false);
    writeFileSync(path, '{"version": 1, "proj');
    await expect(openStateSession(directory, 'damaged', undefined, 'apply')).rejects.toMatchObject({
      message: expect.stringMatching(/is damaged \(.*JSON.*\)/),
    });
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
