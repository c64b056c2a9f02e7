import { readdirSync, readFileSync } from 'node:fs';

// Linux clock ticks per second for /proc/<pid>/stat; 100 on every mainstream kernel configuration.
const ticksPerSecond = 100;

/**
 * CPU time (user + system, seconds) of a process and its direct children (gunicorn's workers), read
 * from /proc; undefined where /proc is not readable (not Linux).
 *
 * @param {number | undefined} pid
 */
export function processTreeCpuSeconds(pid) {
  if (pid === undefined) return undefined;
  try {
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(entry);
      if (stat && (Number(entry) === pid || stat.parent === pid)) ticks += stat.ticks;
    }
    return ticks / ticksPerSecond;
  } catch {
    return undefined;
  }
}

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: split after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Whole-machine CPU counters from /proc/stat: busy and total ticks; undefined off Linux. */
export function machineCpuTicks() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * Measures what `work` costs: the server's CPU cores in use on average and the machine's busy fraction.
 *
 * @template T
 * @param {number | undefined} serverPid
 * @param {() => Promise<T>} work
 * @returns {Promise<{ result: T, serverCores: number | undefined, machineBusy: number | undefined }>}
 */
export async function withCpuUsage(serverPid, work) {
  const startedAt = process.hrtime.bigint();
  const serverBefore = processTreeCpuSeconds(serverPid);
  const machineBefore = machineCpuTicks();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const serverAfter = processTreeCpuSeconds(serverPid);
  const machineAfter = machineCpuTicks();
  const serverCores =
    serverBefore === undefined || serverAfter === undefined
      ? undefined
      : (serverAfter - serverBefore) / seconds;
  const machineBusy =
    machineBefore && machineAfter && machineAfter.total > machineBefore.total
      ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)
      : undefined;
  return { result, serverCores, machineBusy };
}
