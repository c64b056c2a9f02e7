import { processIsAlive } from '../runtime/process-is-alive.js';
/** The process whose server serves a deployment, as the deployment's record keeps it. */
export interface ServingProcess {
  pid: number;
  /** Which `localGpu()` backend in that process: two backends in one process run two servers. */
  backend: string;
  url: string;
  startedAt: Date;
  /** When that backend stopped the server (its `close()`); absent while it serves, and after a crash. */
  stoppedAt?: Date;
}

/** Where a recorded deployment's server is, as one backend sees it (when it is not its own). */
export type ServerWhereabouts =
  /** Nothing has served it yet. */
  | { kind: 'never-started' }
  /** Another backend (in another process, or another `localGpu()` in this one) serves it. */
  | { kind: 'elsewhere'; process: ServingProcess }
  /** It served once and stopped; `reason` says how, and that reconcile starts it here. */
  | { kind: 'not-running'; process: ServingProcess; reason: string };

/**
 * Where the server of a deployment whose runtime is not in `self` is: read from the record's process
 * entry and whether that process still lives (a signal 0 probe). A stale entry is never trusted: a pid
 * that is gone, or this backend's own entry without a runtime, reads as not running.
 */
export function locateServer(
  entry: ServingProcess | undefined,
  self: { backend: string },
  isAlive: (pid: number) => boolean = processIsAlive,
): ServerWhereabouts {
  if (!entry) return { kind: 'never-started' };
  if (entry.stoppedAt) {
    return {
      kind: 'not-running',
      process: entry,
      reason: `not running: the backend that served it (pid ${entry.pid}) stopped its server at ${entry.stoppedAt.toISOString()}; reconcile starts it here`,
    };
  }
  if (entry.pid === process.pid && entry.backend === self.backend) {
    return {
      kind: 'not-running',
      process: entry,
      reason: 'not running: its server in this process has stopped; reconcile starts it again',
    };
  }
  if (entry.pid === process.pid || isAlive(entry.pid)) return { kind: 'elsewhere', process: entry };
  return {
    kind: 'not-running',
    process: entry,
    reason: `not running: the process that served it (pid ${entry.pid}) has exited; reconcile starts it here`,
  };
}
