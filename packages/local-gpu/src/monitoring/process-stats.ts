import { availableParallelism, totalmem } from 'node:os';

/** CPU and memory of this process, as percentages. */
export interface ProcessStatsReading {
  /** CPU time used since the previous reading over the wall time × cores, 0–100 (worker threads included). */
  cpuUtilization: number | null;
  /** Resident memory over the machine's memory, 0–100. */
  memoryUtilization: number;
}

/** Reads process CPU and memory utilization; the first CPU reading is `null` (no interval yet). */
export function createProcessStatsReader(
  now: () => number = () => performance.now(),
): () => ProcessStatsReading {
  const cores = availableParallelism();
  const total = totalmem();
  let previousCpu = process.cpuUsage();
  let previousTime = now();
  let first = true;
  return () => {
    const cpu = process.cpuUsage();
    const time = now();
    const usedMicroseconds = cpu.user - previousCpu.user + (cpu.system - previousCpu.system);
    const elapsedMicroseconds = (time - previousTime) * 1000;
    previousCpu = cpu;
    previousTime = time;
    const cpuUtilization =
      first || elapsedMicroseconds <= 0
        ? null
        : Math.min(100, (100 * usedMicroseconds) / (elapsedMicroseconds * cores));
    first = false;
    return { cpuUtilization, memoryUtilization: (100 * process.memoryUsage.rss()) / total };
  };
}
