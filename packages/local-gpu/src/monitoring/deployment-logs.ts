import { existsSync, readFileSync } from 'node:fs';
import { type LogEntry, redact, redactText } from '@mlscale/core';
import { createJsonLinesFile, type JsonLinesFile } from './json-lines-file.js';
import { LogRing } from './log-ring.js';
import type { RequestRecord } from './request-record.js';

/** Severity of a server log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the server (or monitoring itself) writes about one deployment. */
export interface ServerLogger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One deployment's request log and server log: bounded rings, optionally mirrored to JSON lines files. */
export interface DeploymentLogs {
  readonly requests: LogRing<RequestRecord>;
  readonly server: LogRing<LogEntry>;
  readonly logger: ServerLogger;
  /** Appends one request (O(1); the file line is written at the next flush). */
  appendRequest(record: RequestRecord, timeMs: number): void;
  /** Writes new lines to the files, when files are on. */
  flush(): Promise<void>;
}

/** Options for `createDeploymentLogs`. */
export interface DeploymentLogsOptions {
  /** Entries each ring keeps. */
  capacity: number;
  /** Folder for `requests.jsonl` and `server.jsonl`; no files when omitted. */
  directory?: string;
  /** Rotation size of each file. */
  maxFileBytes: number;
  /** When a server log line is written. */
  now: () => number;
  onError?: (error: unknown) => void;
}

/** A request as a log entry: no body, just what the request log promises. */
export function requestLogEntry(record: RequestRecord, timeMs: number): LogEntry {
  const fields: Record<string, unknown> = {
    route: record.route,
    status: record.status,
    latencyMs: record.latencyMs,
  };
  if (record.batchSize !== undefined) fields.batchSize = record.batchSize;
  if (record.replica !== undefined) fields.replica = record.replica;
  if (record.modelVersion !== undefined) fields.modelVersion = record.modelVersion;
  return {
    time: new Date(timeMs),
    source: 'request',
    message: `${record.route} ${record.status} ${record.latencyMs.toFixed(2)} ms`,
    fields,
  };
}

/** The JSON line a log entry is written as. */
export function logEntryLine(entry: LogEntry): string {
  return JSON.stringify({
    time: entry.time.toISOString(),
    source: entry.source,
    message: entry.message,
    ...entry.fields,
  });
}

export function createDeploymentLogs(options: DeploymentLogsOptions): DeploymentLogs {
  const requests = new LogRing<RequestRecord>(options.capacity);
  const server = new LogRing<LogEntry>(options.capacity);
  const fileOptions = {
    maxBytes: options.maxFileBytes,
    ...(options.onError ? { onError: options.onError } : {}),
  };
  const requestFile: JsonLinesFile | undefined = options.directory
    ? createJsonLinesFile(`${options.directory}/requests.jsonl`, fileOptions)
    : undefined;
  const serverFile: JsonLinesFile | undefined = options.directory
    ? createJsonLinesFile(`${options.directory}/server.jsonl`, fileOptions)
    : undefined;
  if (options.directory) {
    // What an earlier run wrote is read back, so logs outlive a restart like the metrics do.
    for (const line of tailLines(`${options.directory}/requests.jsonl`, options.capacity)) {
      const record = requestFromLine(line);
      if (record) requests.append(record.record, record.timeMs);
    }
    for (const line of tailLines(`${options.directory}/server.jsonl`, options.capacity)) {
      const entry = serverEntryFromLine(line);
      if (entry) server.append(entry, entry.time.getTime());
    }
  }
  let requestsWritten = requests.appended;

  function log(level: LogLevel, message: string, fields?: Record<string, unknown>) {
    const entry: LogEntry = {
      time: new Date(options.now()),
      source: 'server',
      message: redactText(message),
      fields: { level, ...(fields ? redact(fields) : {}) },
    };
    server.append(entry, entry.time.getTime());
    serverFile?.write(logEntryLine(entry));
  }

  return {
    requests,
    server,
    logger: {
      log,
      info: (message, fields) => log('info', message, fields),
      warn: (message, fields) => log('warn', message, fields),
      error: (message, fields) => log('error', message, fields),
    },
    appendRequest(record, timeMs) {
      requests.append(record, timeMs);
    },
    async flush() {
      if (requestFile) {
        // Serializing here, once a second, keeps JSON work off the request path.
        const first = Math.max(requestsWritten, requests.oldestSequence);
        for (let sequence = first; sequence < requests.appended; sequence++) {
          const held = requests.at(sequence);
          if (held) requestFile.write(logEntryLine(requestLogEntry(held.item, held.timeMs)));
        }
        requestsWritten = requests.appended;
        await requestFile.flush();
      }
      await serverFile?.flush();
    },
  };
}

/** The last `count` lines of a JSON lines file and its rotated `.1` (oldest first); none when missing. */
function tailLines(path: string, count: number): string[] {
  const lines: string[] = [];
  for (const file of [`${path}.1`, path]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line) lines.push(line);
  }
  return lines.slice(Math.max(0, lines.length - count));
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    // A torn last line (the process died mid-write) is skipped.
    return undefined;
  }
}

/** A request log line back into its record; `undefined` for anything malformed. */
function requestFromLine(line: string): { record: RequestRecord; timeMs: number } | undefined {
  const value = parseObject(line);
  if (!value) return undefined;
  const timeMs = Date.parse(String(value.time));
  const { route, status, latencyMs, batchSize, replica, modelVersion } = value;
  if (Number.isNaN(timeMs) || typeof route !== 'string') return undefined;
  if (typeof status !== 'number' || typeof latencyMs !== 'number') return undefined;
  const record: RequestRecord = { route, status, latencyMs };
  if (typeof batchSize === 'number') record.batchSize = batchSize;
  if (typeof replica === 'number' || typeof replica === 'string') record.replica = replica;
  if (typeof modelVersion === 'string') record.modelVersion = modelVersion;
  return { record, timeMs };
}

/** A server log line back into its entry; `undefined` for anything malformed. */
function serverEntryFromLine(line: string): LogEntry | undefined {
  const value = parseObject(line);
  if (!value) return undefined;
  const { time, source, message, ...fields } = value;
  const timeMs = Date.parse(String(time));
  if (Number.isNaN(timeMs) || typeof message !== 'string') return undefined;
  return { time: new Date(timeMs), source: typeof source === 'string' ? source : 'server', message, fields };
}
