import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MlscaleErrorCode } from '../errors.js';
import { redact } from '../redact.js';
import type { MutatingOperation } from './events.js';

/** One mutating call: who did what to which resource, when, with which spec, and how it ended. */
export interface AuditEntry {
  time: string;
  /** Who: the `actor` setting, else the OS user. */
  actor: string;
  provider: string;
  operation: MutatingOperation;
  target: string;
  /** sha256 of the spec or arguments (the spec itself is not recorded: it may hold secrets). */
  specHash?: string;
  result: 'succeeded' | 'failed';
  durationMs: number;
  error?: { code: MlscaleErrorCode | 'Unknown'; message: string };
}

/** Where audit entries go. Writing must not fail the operation: the client logs sink errors and goes on. */
export interface AuditSink {
  write(entry: AuditEntry): Promise<void>;
}

/** Keeps entries in memory (tests, or a service that ships them elsewhere). */
export function memoryAuditSink(): AuditSink & { entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return {
    entries,
    async write(entry) {
      entries.push(redact(entry));
    },
  };
}

/** Appends one JSON line per entry to `path` (the CLI's default: `.mlscale/audit.jsonl`). */
export function jsonLinesAuditSink(path: string): AuditSink {
  let ready: Promise<unknown> | undefined;
  let chain: Promise<void> = Promise.resolve();
  return {
    write(entry) {
      ready ??= mkdir(dirname(path), { recursive: true });
      // Chained so concurrent operations never interleave partial lines.
      chain = chain.then(async () => {
        await ready;
        await appendFile(path, `${JSON.stringify(redact(entry))}\n`, 'utf8');
      });
      return chain;
    },
  };
}
