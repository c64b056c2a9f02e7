import { type ChildProcess, spawn } from 'node:child_process';
import { sleep } from '@mlscale/core';

/** A started process and a promise of its end (after its output streams closed). */
export interface RunningProcess {
  child: ChildProcess;
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `command` (argv, no shell) as the leader of its own process group, so stopping it reaches
 * anything it started too.
 */
export function startProcess(
  command: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): RunningProcess {
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    shell: false,
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' follows 'exit' once stdout and stderr are drained; a spawn failure emits 'error' and 'close'.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, ended };
}

/** Whether the process has not exited yet. */
export function isRunning(process: RunningProcess): boolean {
  return (
    process.child.exitCode === null && process.child.signalCode === null && process.child.pid !== undefined
  );
}

function signalGroup(process: RunningProcess, signal: NodeJS.Signals): void {
  const pid = process.child.pid;
  if (pid === undefined) return;
  try {
    globalThis.process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * SIGTERM to every running process group, SIGKILL to those still running after `graceMs` (SageMaker's
 * StopTrainingJob does the same with 120 s); resolves once all have ended.
 */
export async function terminateProcesses(
  processes: readonly RunningProcess[],
  graceMs: number,
): Promise<void> {
  const running = processes.filter(isRunning);
  for (const process of running) signalGroup(process, 'SIGTERM');
  let ended = false;
  const allEnded = Promise.all(processes.map((process) => process.ended)).then(() => {
    ended = true;
  });
  const controller = new AbortController();
  await Promise.race([allEnded, sleep(graceMs, controller.signal).catch(() => {})]);
  controller.abort();
  // A leader that exited may leave children holding its output open: the whole group goes.
  if (!ended) for (const process of processes) signalGroup(process, 'SIGKILL');
  await allEnded;
}
