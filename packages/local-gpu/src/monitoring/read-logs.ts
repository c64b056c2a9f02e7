import { abortedError, type LogEntry, type LogQuery } from '@mlscale/core';
import type { LogRing } from './log-ring.js';

/** A ring and how its items read as log entries. */
export interface LogSource<Item> {
  ring: LogRing<Item>;
  toEntry(item: Item, timeMs: number): LogEntry;
}

/** The most entries a slow follower may fall behind before the oldest are dropped. */
export const maximumFollowBacklog = 10_000;

function matches(entry: LogEntry, query: LogQuery): boolean {
  if (query.since && entry.time < query.since) return false;
  if (query.filter === undefined) return true;
  if (entry.message.includes(query.filter)) return true;
  return entry.fields !== undefined && JSON.stringify(entry.fields).includes(query.filter);
}

/**
 * Reads the sources' entries as one time-ordered async iterator: those held now (since `since`,
 * containing `filter`; `limit` keeps the first entries after `since`, or the newest ones without it), then,
 * with `follow`, new ones as they arrive until `signal` aborts.
 */
// biome-ignore lint/suspicious/noExplicitAny: sources of different item types are read alike.
export async function* readLogs(sources: LogSource<any>[], query: LogQuery, signal?: AbortSignal) {
  if (signal?.aborted && !query.follow) throw abortedError(signal, 'Reading logs');
  const queue: LogEntry[] = [];
  let wake: (() => void) | undefined;
  const unsubscribes = query.follow
    ? sources.map((source) =>
        source.ring.subscribe((item, timeMs) => {
          const entry = source.toEntry(item, timeMs);
          if (!matches(entry, query)) return;
          if (queue.length >= maximumFollowBacklog) queue.shift();
          queue.push(entry);
          wake?.();
        }),
      )
    : [];
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    const held: LogEntry[] = [];
    for (const source of sources) {
      for (let sequence = source.ring.oldestSequence; sequence < source.ring.appended; sequence++) {
        const found = source.ring.at(sequence);
        if (!found) continue;
        const entry = source.toEntry(found.item, found.timeMs);
        if (matches(entry, query)) held.push(entry);
      }
    }
    held.sort((left, right) => left.time.getTime() - right.time.getTime());
    const limited =
      query.limit === undefined || query.follow
        ? held
        : query.since
          ? held.slice(0, query.limit)
          : held.slice(Math.max(0, held.length - query.limit));
    yield* limited;
    if (!query.follow) return;
    while (!signal?.aborted) {
      while (queue.length > 0) {
        yield queue.shift()!;
        if (signal?.aborted) return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    for (const unsubscribe of unsubscribes) unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
