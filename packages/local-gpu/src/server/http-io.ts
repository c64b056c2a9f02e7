import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactText } from '@mlscale/core';
import { InferenceError } from '../deployments/inference-types.js';
import { decodeContentEncoding } from './content-encoding.js';

/** An over-limit body up to this many bytes is read and dropped, so the client can read its 413. */
const drainBytes = 64 * 1024 * 1024;

/**
 * Reads a request body of up to `limit` bytes (SageMaker's 6 MiB by default) and decodes its
 * `Content-Encoding`. A larger one fails with 413 once it has been read (up to 64 MiB), so the client,
 * still sending, gets the answer rather than a reset; past that the answer closes the connection.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  const encoding = request.headers['content-encoding'];
  const readUpTo = Math.max(limit, drainBytes);
  if (declared > readUpTo) {
    request.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (size > readUpTo) {
        request.removeAllListeners('data');
        request.removeAllListeners('end');
        request.resume();
        reject(tooLarge(size, limit));
      }
    });
    request.on('end', () => {
      if (size > limit) return reject(tooLarge(size, limit));
      try {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        resolve(decodeContentEncoding(body, encoding, limit));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

/** The request's media type, lower case and without parameters (`application/json`); '' when absent. */
export function mediaType(request: IncomingMessage): string {
  const header = request.headers['content-type'] ?? '';
  const end = header.indexOf(';');
  return (end < 0 ? header : header.slice(0, end)).trim().toLowerCase();
}

/** A 415 naming what the route takes. */
export function unsupportedMediaType(type: string, accepted: readonly string[]): InferenceError {
  return new InferenceError(
    415,
    `Content-Type ${JSON.stringify(type)} is not supported here; send ${accepted.join(', ')}`,
    'unsupported_media_type',
  );
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
  // Answered before the body was read (it was too large, or never came): the connection cannot go on.
  if (response.req && !response.req.complete) extra.push('Connection', 'close');
  sendJson(response, status, JSON.stringify({ error: redactText(message) }), extra);
}
