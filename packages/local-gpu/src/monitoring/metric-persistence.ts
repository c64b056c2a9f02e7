import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJsonLinesFile, type JsonLinesFile } from './json-lines-file.js';
import { latencyBinCount } from './latency-histogram.js';
import type { MetricStore } from './metric-store.js';
import type { ScalarRing } from './scalar-ring.js';

/**
 * Mirrors the store to `<directory>/<kind>-<name>.jsonl`, one line per target per second:
 * `{"t": epochSecond, "s": {name: [count, sum, min, max]}, "l": [count, sum, min, max], "h": [[bin, count]]}`
 * (`l`/`h`: the latency cell and its non-empty histogram bins). Files rotate at `maxFileBytes`.
 */
export interface MetricPersistence {
  /** Queues every second up to `upToSecond` not written yet. */
  writeThrough(upToSecond: number): void;
  flush(): Promise<void>;
  /** Loads what the files hold (within the store's retention) into the store. Returns lines read. */
  load(nowSecond: number): number;
}

type Cell = [number, number, number, number];

export function createMetricPersistence(
  store: MetricStore,
  directory: string,
  options: { maxFileBytes: number; onError?: (error: unknown) => void },
): MetricPersistence {
  const files = new Map<string, JsonLinesFile>();
  const written = new Map<string, number>();
  const fileFor = (key: string) => {
    let file = files.get(key);
    if (!file) {
      file = createJsonLinesFile(join(directory, `${key.replace('/', '-')}.jsonl`), {
        maxBytes: options.maxFileBytes,
        ...(options.onError ? { onError: options.onError } : {}),
      });
      files.set(key, file);
    }
    return file;
  };

  const cellOf = (ring: ScalarRing, second: number): Cell | undefined => {
    if (!ring.has(second)) return undefined;
    const count = ring.count(second);
    return count === 0 ? [0, 0, 0, 0] : [count, ring.sum(second), ring.minimum(second), ring.maximum(second)];
  };

  return {
    writeThrough(upToSecond) {
      for (const key of store.keys()) {
        const target = store.find(key)!;
        const first = Math.max(
          (written.get(key) ?? Number.NEGATIVE_INFINITY) + 1,
          upToSecond - store.retentionSeconds + 1,
        );
        for (let second = first; second <= upToSecond; second++) {
          const scalars: Record<string, Cell> = {};
          let any = false;
          for (const [name, ring] of target.scalarSeries()) {
            const cell = cellOf(ring, second);
            if (cell) {
              scalars[name] = cell;
              any = true;
            }
          }
          const latency = target.latencyIfAny();
          const latencyCell = latency ? cellOf(latency.cells, second) : undefined;
          if (!any && !latencyCell) continue;
          const line: { t: number; s: Record<string, Cell>; l?: Cell; h?: [number, number][] } = {
            t: second,
            s: scalars,
          };
          if (latency && latencyCell && latencyCell[0] > 0) {
            line.l = latencyCell;
            line.h = latency.nonEmptyBins(second);
          }
          fileFor(key).write(JSON.stringify(line));
        }
        written.set(key, upToSecond);
      }
    },
    async flush() {
      await Promise.all([...files.values()].map((file) => file.flush()));
    },
    load(nowSecond) {
      if (!existsSync(directory)) return 0;
      let lines = 0;
      for (const fileName of readdirSync(directory)) {
        const match = /^(deployment|job)-([a-z][a-z0-9-]*)\.jsonl$/.exec(fileName);
        if (!match) continue;
        const key = `${match[1]}/${match[2]}`;
        const target = store.target(key);
        let newest = Number.NEGATIVE_INFINITY;
        for (const path of [join(directory, `${fileName}.1`), join(directory, fileName)]) {
          if (!existsSync(path)) continue;
          for (const text of readFileSync(path, 'utf8').split('\n')) {
            const line = parseLine(text);
            if (!line || line.t <= nowSecond - store.retentionSeconds || line.t > nowSecond) continue;
            lines += 1;
            newest = Math.max(newest, line.t);
            for (const [name, cell] of Object.entries(line.s)) {
              const ring =
                name === 'invocations' || name === 'errors4xx' || name === 'errors5xx'
                  ? target.counter(name)
                  : target.gauge(name);
              if (!ring) continue;
              if (cell[0] === 0) ring.touch(line.t);
              else ring.merge(line.t, ...cell);
            }
            if (line.l && line.h) {
              const latency = target.latency();
              latency.cells.merge(line.t, ...line.l);
              for (const [bin, count] of line.h) latency.mergeBin(line.t, bin, count);
            }
          }
        }
        written.set(key, newest);
      }
      return lines;
    },
  };
}

function isCell(value: unknown): value is Cell {
  return Array.isArray(value) && value.length === 4 && value.every((item) => typeof item === 'number');
}

/** A persisted line, or `undefined` for anything malformed (a torn last line after a crash, say). */
function parseLine(
  text: string,
): { t: number; s: Record<string, Cell>; l?: Cell; h?: [number, number][] } | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as { t?: unknown; s?: unknown; l?: unknown; h?: unknown };
    if (typeof value.t !== 'number' || typeof value.s !== 'object' || value.s === null) return undefined;
    const scalars: Record<string, Cell> = {};
    for (const [name, cell] of Object.entries(value.s)) if (isCell(cell)) scalars[name] = cell;
    const histogram = Array.isArray(value.h)
      ? value.h.filter(
          (pair): pair is [number, number] =>
            Array.isArray(pair) &&
            Number.isInteger(pair[0]) &&
            pair[0] >= 0 &&
            pair[0] < latencyBinCount &&
            typeof pair[1] === 'number',
        )
      : undefined;
    return {
      t: value.t,
      s: scalars,
      ...(isCell(value.l) && histogram ? { l: value.l, h: histogram } : {}),
    };
  } catch {
    return undefined;
  }
}
