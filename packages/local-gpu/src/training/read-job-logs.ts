import { open } from 'node:fs/promises';
import { type LogEntry, sleep } from '@mlscale/core';
import { parseLogLine } from './job-log.js';

export interface ReadJobLogsOptions {
  /** Only lines at or after this time. */
  since?: Date;
  /** Only lines containing this text. */
  filter?: string;
  /** At most this many entries. */
  limit?: number;
  /** Keep reading new lines until the job ends (or the signal aborts). */
  follow?: boolean;
  signal?: AbortSignal;
  /** How often to look for new lines while following. */
  intervalMs: number;
  /** Whether the job has ended: once it has and the file is read to its end, following stops. */
  isFinished: () => Promise<boolean>;
}

/**
 * The entries of a job's log file, in order. Reads only whole lines, so a line being written is picked
 * up on the next look, never cut in two.
 */
export async function* readJobLogs(path: string, options: ReadJobLogsOptions): AsyncGenerator<LogEntry> {
  let offset = 0;
  let remainder = '';
  let yielded = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    // Read before asking whether the job ended: lines are on disk before the job is marked finished.
    const finished = options.follow ? await options.isFinished() : true;
    const chunk = await readFrom(path, offset);
    offset += chunk.length;
    const lines = (remainder + chunk.toString('utf8')).split('\n');
    remainder = lines.pop() ?? '';
    for (const line of lines) {
      const entry = parseLogLine(line);
      if (!entry) continue;
      if (options.since && entry.time < options.since) continue;
      if (options.filter && !entry.message.includes(options.filter)) continue;
      yield entry;
      yielded++;
      if (options.limit !== undefined && yielded >= options.limit) return;
    }
    if (finished && chunk.length === 0) return;
    if (chunk.length === 0) {
      try {
        await sleep(options.intervalMs, options.signal);
      } catch {
        return;
      }
    }
  }
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
