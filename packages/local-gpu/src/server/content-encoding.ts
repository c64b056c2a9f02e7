import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { InferenceError } from '../deployments/inference-types.js';

/** The request encodings the server decodes (`Content-Encoding`; tritonclient's `request_compression_algorithm`). */
export const acceptedEncodings = ['gzip', 'deflate', 'br'] as const;

/**
 * A request body as sent, decoded by its `Content-Encoding` into at most `limit` bytes: gzip, deflate
 * (zlib-wrapped, or raw as some clients send it) and br. Another encoding is answered 415 naming the
 * accepted ones; bytes that do not decode are a 400; a body that inflates past the limit a 413.
 */
export function decodeContentEncoding(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const name = (encoding ?? '').trim().toLowerCase();
  if (name === '' || name === 'identity') return body;
  const options = { maxOutputLength: limit };
  const decode = (() => {
    switch (name) {
      case 'gzip':
      case 'x-gzip':
        return () => gunzipSync(body, options);
      case 'deflate':
        return () => {
          try {
            return inflateSync(body, options);
          } catch (error) {
            if (isTooLarge(error)) throw error;
            return inflateRawSync(body, options);
          }
        };
      case 'br':
        return () => brotliDecompressSync(body, options);
      default:
        throw new InferenceError(
          415,
          `Content-Encoding ${JSON.stringify(encoding)} is not supported; send ${acceptedEncodings.join(', ')} or no encoding`,
          'unsupported_media_type',
        );
    }
  })();
  try {
    return decode();
  } catch (error) {
    if (isTooLarge(error)) {
      throw new InferenceError(
        413,
        `request body inflates past the limit of ${limit} bytes; send smaller batches`,
        'too_large',
      );
    }
    throw new InferenceError(
      400,
      `request body is not valid ${name} data (Content-Encoding: ${name}): ${error instanceof Error ? error.message : String(error)}`,
      'invalid_request',
    );
  }
}

function isTooLarge(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
}
