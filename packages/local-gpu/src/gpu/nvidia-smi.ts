import { execFile } from 'node:child_process';

/** One GPU's figures as nvidia-smi reports them. */
export interface GpuReading {
  index: number;
  name: string;
  /** Percent, 0–100. */
  utilizationPercent: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
}

/** GPU figures, or why there are none (never invented). */
export type GpuStats = { available: true; gpus: GpuReading[] } | { available: false; reason: string };

const query = 'index,name,utilization.gpu,memory.total,memory.used';

/** Reads GPU utilization and memory through `nvidia-smi`; reports absence (no binary, no GPU, error). */
export function readGpuStats(command = 'nvidia-smi', timeoutMs = 2000): Promise<GpuStats> {
  return new Promise((resolve) => {
    execFile(
      command,
      [`--query-gpu=${query}`, '--format=csv,noheader,nounits'],
      { timeout: timeoutMs },
      (error, stdout) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          resolve({
            available: false,
            reason:
              code === 'ENOENT'
                ? 'nvidia-smi not found (no NVIDIA driver)'
                : `nvidia-smi failed: ${error.message.split('\n')[0]}`,
          });
          return;
        }
        const gpus = parseNvidiaSmi(stdout);
        resolve(
          gpus.length > 0
            ? { available: true, gpus }
            : { available: false, reason: 'nvidia-smi lists no GPU' },
        );
      },
    );
  });
}

/** Parses `--query-gpu=index,name,utilization.gpu,memory.total,memory.used --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(output: string): GpuReading[] {
  const readings: GpuReading[] = [];
  for (const line of output.split('\n')) {
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < 5) continue;
    const [index, name, utilization, total, used] = fields;
    const numbers = [Number(index), Number(utilization), Number(total), Number(used)];
    // "[N/A]" (MIG, some drivers) makes a field absent: skip the line rather than report a made-up figure.
    if (numbers.some((value) => !Number.isFinite(value))) continue;
    readings.push({
      index: numbers[0]!,
      name: name ?? '',
      utilizationPercent: numbers[1]!,
      memoryTotalBytes: numbers[2]! * 1024 * 1024,
      memoryUsedBytes: numbers[3]! * 1024 * 1024,
    });
  }
  return readings;
}
