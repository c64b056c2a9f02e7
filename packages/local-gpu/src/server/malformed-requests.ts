import type { Duplex } from 'node:stream';

/** Longest request URL served (a longer one is answered 414). */
export const maximumUrlBytes = 8 * 1024;
/** Most bytes of request headers served (more is answered 431). */
export const maximumHeaderBytes = 16 * 1024;

/** Node's HTTP parser errors (llhttp codes) → the status a client should read. */
const statusByParserError: Readonly<Record<string, [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
  HPE_METHOD_NOT_ALLOWED: [405, 'Method Not Allowed'],
};

/**
 * The server's `clientError` handler: what Node's parser refused (a duplicate Content-Length, a bad
 * header, an unknown method, headers past the parser's limit) is answered with a status line and a JSON
 * body naming the problem, then the connection closes, as the stream cannot be trusted after it. A socket
 * that cannot be written to any more is just closed.
 */
export function answerMalformedRequest(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy();
    return;
  }
  const [status, text] = statusByParserError[error.code ?? ''] ?? [400, 'Bad Request'];
  const reason = error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  const body = JSON.stringify({ error: `malformed HTTP request (${error.code ?? 'unknown'}): ${reason}` });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
