import type { RecordedRequest } from '../src/emulator/index.js';

/** A JSON body as the emulator received it, read field by field in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: wire bodies are free-form JSON; each test asserts the fields it reads.
export type WireBody = any;

/** The body of a recorded request; fails the test when the request was not made. */
export function bodyOf(request: RecordedRequest | undefined): WireBody {
  if (!request) throw new Error('expected the request to have been made');
  return request.body;
}
