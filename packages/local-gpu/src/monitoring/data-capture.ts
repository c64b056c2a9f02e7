import { parseSpec, redact } from '@mlscale/core';
import { z } from 'zod';
import { createJsonLinesFile } from './json-lines-file.js';

/** Data capture settings (SageMaker Model Monitor's data capture, locally). */
export const dataCaptureSettingsSchema = z
  .object({
    /** Percent of requests captured, 0–100. */
    samplingPercentage: z.number().min(0).max(100),
    /** A captured record larger than this keeps its metadata but drops its bodies (`truncated: true`). */
    maxRecordBytes: z
      .number()
      .int()
      .min(256)
      .default(64 * 1024),
    /** The capture file rotates to `<file>.1` past this size: disk use ≤ 2 × maxFileBytes. */
    maxFileBytes: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024),
  })
  .strict();
export type DataCaptureSettings = z.input<typeof dataCaptureSettingsSchema>;

/** One captured exchange. */
export interface CapturedExchange {
  /** Epoch milliseconds. */
  timeMs: number;
  route: string;
  status: number;
  modelVersion?: string;
  /** The request body as parsed JSON (or a summary the server chose). */
  request: unknown;
  /** The response body. */
  response: unknown;
}

/** Samples requests and responses to a JSON lines file. */
export interface DataCapture {
  /** Draws whether to capture the next request (call before building what `capture` needs). */
  shouldCapture(): boolean;
  /** Queues a record; returns at once. */
  capture(exchange: CapturedExchange): void;
  flush(): Promise<void>;
  /** Records written and records truncated so far. */
  readonly stats: { captured: number; truncated: number };
  readonly path: string;
}

/** Creates data capture writing to `path`; `random` is for tests. */
export function createDataCapture(
  path: string,
  settings: DataCaptureSettings,
  options: { random?: () => number; onError?: (error: unknown) => void } = {},
): DataCapture {
  const parsed = parseSpec(dataCaptureSettingsSchema, settings, 'data capture settings');
  const random = options.random ?? Math.random;
  const file = createJsonLinesFile(path, {
    maxBytes: parsed.maxFileBytes,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const stats = { captured: 0, truncated: 0 };
  return {
    path,
    stats,
    shouldCapture: () => parsed.samplingPercentage > 0 && random() * 100 < parsed.samplingPercentage,
    capture(exchange) {
      const base = {
        time: new Date(exchange.timeMs).toISOString(),
        route: exchange.route,
        status: exchange.status,
        ...(exchange.modelVersion !== undefined ? { modelVersion: exchange.modelVersion } : {}),
      };
      // Bodies are data, but a secret-named field (an API key in a payload) is still masked.
      let line = JSON.stringify({
        ...base,
        request: redact(exchange.request),
        response: redact(exchange.response),
      });
      const bytes = Buffer.byteLength(line);
      if (bytes > parsed.maxRecordBytes) {
        line = JSON.stringify({ ...base, truncated: true, sizeBytes: bytes });
        stats.truncated += 1;
      }
      stats.captured += 1;
      file.write(line);
    },
    flush: () => file.flush(),
  };
}
