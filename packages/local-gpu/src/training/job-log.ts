import { createWriteStream, type WriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { type LogEntry, redactText } from '@mlscale/core';

/** Which stream a line came from; `system` lines are the backend's own (start, stop, interruption). */
export type LogStream = 'stdout' | 'stderr' | 'system';

const linePattern = /^(\S+) \[([^\]]+)\] \[(stdout|stderr|system)\] (.*)$/;

/** One log line as stored: `<ISO time> [<source>] [<stream>] <message>`. */
export function formatLogLine(time: Date, source: string, stream: LogStream, message: string): string {
  return `${time.toISOString()} [${source}] [${stream}] ${message}\n`;
}

/** A stored line back as a `LogEntry`, or `undefined` for a line that is not one. */
export function parseLogLine(line: string): LogEntry | undefined {
  const match = linePattern.exec(line);
  if (!match) return undefined;
  const time = new Date(match[1]!);
  if (Number.isNaN(time.getTime())) return undefined;
  const source = match[2]!;
  const rank = /^rank-(\d+)$/.exec(source);
  return {
    time,
    source,
    message: match[4]!,
    fields: { stream: match[3], ...(rank ? { rank: Number(rank[1]) } : {}) },
  };
}

/** Appends labelled, timestamped lines to a job's log file; secrets are masked before they reach disk. */
export interface JobLogWriter {
  /** Writes one line. */
  write(source: string, stream: LogStream, message: string): void;
  /** Splits a process's output into lines; call `flush` when the stream ends. */
  lineSplitter(source: string, stream: LogStream): { push(chunk: Buffer): void; flush(): void };
  /** Every line so far is on disk. */
  close(): Promise<void>;
}

/**
 * Opens `path` for appending. `onLine` sees every line as written (the metric parser listens there).
 */
export function openJobLog(
  path: string,
  onLine: (source: string, stream: LogStream, message: string, time: Date) => void,
): JobLogWriter {
  const file: WriteStream = createWriteStream(path, { flags: 'a' });
  let closed = false;
  let failure: Error | undefined;
  // A log that cannot be written (its folder removed, the disk full) must not take the program down.
  file.on('error', (error) => {
    failure ??= error;
  });
  const write = (source: string, stream: LogStream, message: string) => {
    if (closed) return;
    const time = new Date();
    const clean = redactText(message.replace(/\r$/, ''));
    if (!failure) file.write(formatLogLine(time, source, stream, clean));
    onLine(source, stream, clean, time);
  };
  return {
    write,
    lineSplitter(source, stream) {
      const decoder = new StringDecoder('utf8');
      let pending = '';
      return {
        push(chunk) {
          pending += decoder.write(chunk);
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) write(source, stream, line);
        },
        flush() {
          pending += decoder.end();
          if (pending !== '') write(source, stream, pending);
          pending = '';
        },
      };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      if (failure || file.destroyed) return Promise.resolve();
      return new Promise((resolve) => file.end(() => resolve()));
    },
  };
}
