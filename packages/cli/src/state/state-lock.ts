import { randomUUID } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { MlscaleError, sleep } from '@mlscale/core';

/** Who holds a state lock, as its file says. */
export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/**
 * Takes `lockPath` for this process, or throws `Conflict` naming the holder once `lockTimeoutMs` has
 * passed. A lock is created whole and at once: its content goes to a private file first, which is then
 * hard-linked to `lockPath`; `link` fails when the name exists, atomically, across processes, and no
 * reader ever sees a half-written owner. A lock left by a dead process on this host is taken over under a
 * second lock (`.takeover`, made the same way): only its holder may remove a stale lock, and only after
 * reading it again and finding the same dead owner, so a fresh lock another process just took is never
 * removed. Returns the dead owner whose lock this process found in its way, if any.
 */
export async function acquireStateLock(
  lockPath: string,
  command: string,
  options: { lockTimeoutMs?: number; signal?: AbortSignal },
): Promise<LockOwner | undefined> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  const deadline = Date.now() + (options.lockTimeoutMs ?? 0);
  let stale: LockOwner | undefined;
  for (;;) {
    if (await createExclusively(lockPath, owner)) return stale;
    const holder = await readLockOwner(lockPath);
    if (holder && isDead(holder, owner.host)) {
      // Whoever removes it, the lock this process then takes was a dead one's: say so.
      await takeOver(lockPath, holder, owner);
      stale = holder;
      continue;
    }
    // Like Terraform's -lock-timeout: wait for the holder to finish, up to the deadline.
    if (Date.now() < deadline) {
      await sleep(Math.min(500, Math.max(1, deadline - Date.now())), options.signal);
      continue;
    }
    throw new MlscaleError({
      code: 'Conflict',
      message: holder
        ? `State is locked by '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.since}). Wait for it to finish (or pass --lock-timeout), or remove ${lockPath} if that process is gone.`
        : `State is locked (${lockPath}). Remove the file if no mlscale command is running.`,
    });
  }
}

/** Removes `lockPath` if it still holds the dead `holder`, under the takeover lock. */
async function takeOver(lockPath: string, holder: LockOwner, owner: LockOwner): Promise<void> {
  const takeoverPath = `${lockPath}.takeover`;
  if (!(await createExclusively(takeoverPath, owner))) {
    // Another process is taking over; one killed in that instant left its takeover lock behind.
    const taker = await readLockOwner(takeoverPath);
    if (taker && isDead(taker, owner.host)) await rm(takeoverPath, { force: true });
    else await sleep(5);
    return;
  }
  try {
    const current = await readLockOwner(lockPath);
    if (current && sameOwner(current, holder)) await rm(lockPath, { force: true });
  } finally {
    await rm(takeoverPath, { force: true });
  }
}

/** Creates `path` holding `owner`, whole, only if it does not exist; whether it did. */
async function createExclusively(path: string, owner: LockOwner): Promise<boolean> {
  const draft = `${path}.${process.pid}.${randomUUID()}.draft`;
  await writeFile(draft, JSON.stringify(owner));
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(draft, { force: true });
  }
}

export async function readLockOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

function sameOwner(left: LockOwner, right: LockOwner): boolean {
  return left.pid === right.pid && left.host === right.host && left.since === right.since;
}

/** A holder on this host whose process is gone (another host's cannot be checked from here). */
function isDead(holder: LockOwner, host: string): boolean {
  if (holder.host !== host) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
