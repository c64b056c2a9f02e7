import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { type Timestamp, timestamp, toMilliseconds } from './clock.js';
import { type EmulatorContext, unaryHandlers } from './context.js';
import { statusError } from './grpc-status.js';

/** One Cloud Logging entry, as the emulator keeps it. */
export interface StoredLogEntry {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  time: Date;
  severity: string;
  textPayload: string;
  labels: Record<string, string>;
  insertId: string;
}

interface Clause {
  field: string;
  operator: string;
  value: string;
}

const severities = [
  'DEFAULT',
  'DEBUG',
  'INFO',
  'NOTICE',
  'WARNING',
  'ERROR',
  'CRITICAL',
  'ALERT',
  'EMERGENCY',
];

/** The Logging query language's `AND`-joined comparisons, enough for resource, label, time and text filters. */
function parseLogFilter(filter: string | undefined): Clause[] {
  if (!filter?.trim()) return [];
  return filter.split(/\s+AND\s+/).map((part) => {
    const match = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|!=|=|>|<|:)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/.exec(part);
    if (!match) throw statusError('INVALID_ARGUMENT', `Unsupported filter clause "${part.trim()}".`);
    return { field: match[1]!, operator: match[2]!, value: (match[3] ?? match[4]!).replace(/\\(.)/g, '$1') };
  });
}

function fieldValue(entry: StoredLogEntry, field: string): string | undefined {
  if (field === 'resource.type') return entry.resource.type;
  if (field.startsWith('resource.labels.'))
    return entry.resource.labels[field.slice('resource.labels.'.length)];
  if (field.startsWith('labels.')) return entry.labels[field.slice('labels.'.length)];
  if (field === 'textPayload') return entry.textPayload;
  if (field === 'logName') return entry.logName;
  if (field === 'severity') return entry.severity;
  return undefined;
}

function matches(entry: StoredLogEntry, clause: Clause): boolean {
  if (clause.field === 'timestamp') {
    const left = entry.time.getTime();
    const right = Date.parse(clause.value);
    if (Number.isNaN(right)) throw statusError('INVALID_ARGUMENT', `Invalid timestamp "${clause.value}".`);
    return compare(left, right, clause.operator);
  }
  if (clause.field === 'severity' && clause.operator !== ':') {
    return compare(
      severities.indexOf(entry.severity),
      severities.indexOf(clause.value.toUpperCase()),
      clause.operator,
    );
  }
  const value = fieldValue(entry, clause.field);
  if (value === undefined) return false;
  if (clause.operator === ':') return value.toLowerCase().includes(clause.value.toLowerCase());
  if (clause.operator === '=') return value === clause.value;
  if (clause.operator === '!=') return value !== clause.value;
  return compare(value < clause.value ? -1 : value > clause.value ? 1 : 0, 0, clause.operator);
}

function compare(left: number, right: number, operator: string): boolean {
  switch (operator) {
    case '>=':
      return left >= right;
    case '>':
      return left > right;
    case '<=':
      return left <= right;
    case '<':
      return left < right;
    case '!=':
      return left !== right;
    default:
      return left === right;
  }
}

/** Cloud Logging entries the emulator wrote (job output, prediction access logs), as LoggingServiceV2. */
export interface LogStore {
  write(
    entry: Omit<StoredLogEntry, 'insertId' | 'severity' | 'labels'> &
      Partial<Pick<StoredLogEntry, 'severity' | 'labels'>>,
  ): void;
  service(): UntypedServiceImplementation;
}

export function createLogStore(context: () => EmulatorContext): LogStore {
  const entries: StoredLogEntry[] = [];
  let counter = 0;

  const toWire = (entry: StoredLogEntry) => ({
    logName: entry.logName,
    resource: entry.resource,
    timestamp: timestamp(entry.time),
    receiveTimestamp: timestamp(entry.time),
    severity: entry.severity,
    textPayload: entry.textPayload,
    labels: entry.labels,
    insertId: entry.insertId,
  });

  return {
    write(entry) {
      entries.push({ severity: 'INFO', labels: {}, ...entry, insertId: String(++counter) });
    },
    service() {
      const ctx = context();
      return unaryHandlers(ctx, 'LoggingServiceV2', {
        ListLogEntries(request) {
          const resourceNames = (request.resourceNames ?? []) as string[];
          if (resourceNames.length === 0)
            throw statusError('INVALID_ARGUMENT', 'Field "resource_names" is required.');
          const clauses = parseLogFilter(request.filter as string | undefined);
          const descending = String(request.orderBy ?? '').includes('desc');
          const pageSize = Math.min(1000, Number(request.pageSize) || 1000);
          const offset = Number(request.pageToken || 0);
          const projects = resourceNames.map((name) => `${name}/logs/`);
          const selected = entries
            .filter((entry) => projects.some((prefix) => entry.logName.startsWith(prefix)))
            .filter((entry) => clauses.every((clause) => matches(entry, clause)))
            .sort((a, b) => (a.time.getTime() - b.time.getTime()) * (descending ? -1 : 1));
          const page = selected.slice(offset, offset + pageSize);
          const next = offset + pageSize < selected.length ? String(offset + pageSize) : '';
          return { entries: page.map(toWire), nextPageToken: next };
        },
        WriteLogEntries(request) {
          const defaults = request as {
            logName?: string;
            resource?: StoredLogEntry['resource'];
            labels?: Record<string, string>;
          };
          for (const item of (request.entries ?? []) as {
            logName?: string;
            resource?: StoredLogEntry['resource'];
            timestamp?: Timestamp;
            severity?: string;
            textPayload?: string;
            labels?: Record<string, string>;
          }[]) {
            const logName = item.logName ?? defaults.logName;
            if (!logName) throw statusError('INVALID_ARGUMENT', 'Each entry needs a log_name.');
            entries.push({
              logName,
              resource: item.resource ?? defaults.resource ?? { type: 'global', labels: {} },
              time: item.timestamp ? new Date(toMilliseconds(item.timestamp)) : new Date(),
              severity: item.severity ?? 'DEFAULT',
              textPayload: item.textPayload ?? '',
              labels: { ...defaults.labels, ...item.labels },
              insertId: String(++counter),
            });
          }
          return {};
        },
      });
    },
  };
}
