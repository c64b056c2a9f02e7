import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactText } from '@mlscale/core';
import { InferenceError } from '../deployments/inference-types.js';

/** Reads a request body up to `limit` bytes; a larger one fails with 413 (SageMaker's 6 MiB by default). */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (declared > limit) {
    request.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        request.removeAllListeners('data');
        request.resume();
        reject(tooLarge(size, limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}

function tooLarge(size: number, limit: number): InferenceError {
  return new InferenceError(
    413,
    `request body of ${size} bytes is over the limit of ${limit} bytes; send smaller batches`,
    'too_large',
  );
}

/** Writes a JSON body with a precomputed header set. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  extraHeaders?: string[],
): void {
  const headers = ['Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body))];
  if (extraHeaders) headers.push(...extraHeaders);
  response.writeHead(status, headers);
  response.end(body);
}

/** Writes `{"error": "..."}` with the error's status (500 for anything unexpected), secrets masked. */
export function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const known = error instanceof InferenceError;
  const status = known ? error.status : 500;
  const message = known
    ? error.message
    : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  const extra: string[] = [];
  if (known && error.retryAfterSeconds !== undefined)
    extra.push('Retry-After', String(error.retryAfterSeconds));
  if (status === 413) extra.push('Connection', 'close');
  sendJson(response, status, JSON.stringify({ error: redactText(message) }), extra);
}
