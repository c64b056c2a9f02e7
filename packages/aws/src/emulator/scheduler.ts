/**
 * Deferred state transitions, run lazily: before each request the emulator runs every task that is due.
 * No timers are left behind (close() has nothing to cancel), and what a request sees depends only on
 * the time it arrives, which keeps tests deterministic.
 */
export interface Scheduler {
  /** Runs `task` at `at` (epoch ms) or at the first request after it. */
  at(at: number, task: (time: number) => void): void;
  /** Runs `task` `delayMs` from now. */
  after(delayMs: number, task: (time: number) => void): void;
  /** Runs every task due by `now`, in time order, including tasks they schedule that are also due. */
  runDue(now?: number): void;
  /** Tasks not yet run. */
  pending(): number;
}

interface ScheduledTask {
  at: number;
  sequence: number;
  task: (time: number) => void;
}

export function createScheduler(now: () => number = Date.now): Scheduler {
  let tasks: ScheduledTask[] = [];
  let sequence = 0;
  const scheduler: Scheduler = {
    at(at, task) {
      tasks.push({ at, sequence: sequence++, task });
    },
    after(delayMs, task) {
      scheduler.at(now() + Math.max(0, delayMs), task);
    },
    runDue(time = now()) {
      for (;;) {
        let next: ScheduledTask | undefined;
        for (const candidate of tasks) {
          if (candidate.at > time) continue;
          if (
            !next ||
            candidate.at < next.at ||
            (candidate.at === next.at && candidate.sequence < next.sequence)
          )
            next = candidate;
        }
        if (!next) return;
        const chosen = next;
        tasks = tasks.filter((task) => task !== chosen);
        chosen.task(chosen.at);
      }
    },
    pending: () => tasks.length,
  };
  return scheduler;
}
