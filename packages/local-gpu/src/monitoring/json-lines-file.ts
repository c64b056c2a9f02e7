import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** An append-only JSON lines file written in the background, rotated to `<file>.1` past `maxBytes`. */
export interface JsonLinesFile {
  readonly path: string;
  /** Queues one line (a JSON text without its newline); never blocks and never throws. */
  write(line: string): void;
  /** Writes what is queued; resolves when it is on disk (errors go to `onError`). */
  flush(): Promise<void>;
  /** Bytes written to the current file so far (as far as this process knows). */
  readonly sizeBytes: number;
}

/** Options for `createJsonLinesFile`. */
export interface JsonLinesFileOptions {
  /** Rotate when the file passes this size; the previous file is kept as `<path>.1`. Disk use ≤ 2 × maxBytes. */
  maxBytes: number;
  /** Lines queued before the oldest are dropped (so a stuck disk cannot grow memory). */
  maxQueuedLines?: number;
  /** Where write errors go (they never reach the caller of `write`). */
  onError?: (error: unknown) => void;
}

/** Creates a background JSON lines writer for `path` (its folder is created on first flush). */
export function createJsonLinesFile(path: string, options: JsonLinesFileOptions): JsonLinesFile {
  const maxQueuedLines = options.maxQueuedLines ?? 100_000;
  let queued: string[] = [];
  let sizeBytes = -1;
  let chain: Promise<void> = Promise.resolve();

  async function writeQueued(): Promise<void> {
    if (queued.length === 0) return;
    const lines = queued;
    queued = [];
    try {
      if (sizeBytes < 0) {
        await mkdir(dirname(path), { recursive: true });
        sizeBytes = await stat(path).then(
          (info) => info.size,
          () => 0,
        );
      }
      const text = `${lines.join('\n')}\n`;
      const bytes = Buffer.byteLength(text);
      if (sizeBytes > 0 && sizeBytes + bytes > options.maxBytes) {
        await rename(path, `${path}.1`);
        sizeBytes = 0;
      }
      await appendFile(path, text);
      sizeBytes += bytes;
    } catch (error) {
      sizeBytes = -1;
      options.onError?.(error);
    }
  }

  return {
    path,
    get sizeBytes() {
      return Math.max(0, sizeBytes);
    },
    write(line) {
      if (queued.length >= maxQueuedLines) queued.shift();
      queued.push(line);
    },
    flush() {
      chain = chain.then(writeQueued);
      return chain;
    },
  };
}
