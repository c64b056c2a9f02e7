import { spawn } from 'node:child_process';

/**
 * Every server the bench starts, so that all of them are stopped at the end, also when a step throws or
 * the run is interrupted (Ctrl-C, SIGTERM).
 */
const running = new Set();

/**
 * Starts a long-running child and resolves once `isReady(line)` returns a value for a line of its
 * stdout or stderr (that value is returned as `ready`). Rejects with the child's last output when it
 * exits first or is not ready within `timeoutMs`.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number, name: string,
 *   isReady: (line: string) => unknown }} options
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, ready: unknown, output: () => string }>}
 */
export function startServer(command, args, options) {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // Keep the tail of the output for error messages; never let a full pipe block the child.
  let tail = '';
  const remember = (text) => {
    tail = (tail + text).slice(-4000);
  };
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error, ready) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        stopServer(child).finally(() => reject(error));
      } else {
        resolve({ child, ready, output: () => tail });
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`${options.name} was not ready within ${timeoutMs} ms. Its output:\n${tail}`)),
      timeoutMs,
    );
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text) => {
        remember(text);
        if (settled) return;
        partial += text;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const ready = options.isReady(line);
          if (ready !== undefined && ready !== false && ready !== null) return finish(undefined, ready);
        }
      });
    }
    child.once('error', (error) => finish(new Error(`${options.name} could not start: ${error.message}`)));
    child.once('exit', (code, signal) =>
      finish(new Error(`${options.name} exited (${signal ?? `code ${code}`}) before it was ready:\n${tail}`)),
    );
  });
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopServer(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every server still running. */
export async function stopAllServers() {
  await Promise.all([...running].map((child) => stopServer(child)));
}

/** Runs a command to completion and returns its stdout; rejects with its stderr on a non-zero exit. */
export function runToCompletion(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr = (stderr + text).slice(-8000);
    });
    child.once('error', (error) => {
      running.delete(child);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr}`));
    });
  });
}

/** Last resort at process exit: synchronous, so it only kills. */
export function killAllServersNow() {
  for (const child of running) child.kill('SIGKILL');
}
