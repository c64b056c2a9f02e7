import { request as httpsRequest } from 'node:https';
import type { AzureMlEmulator } from '../src/emulator/index.js';
import type { WireBody } from './wire-body.js';

/** A raw answer from the emulator. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: WireBody;
}

export const machineLearningApi = '?api-version=2022-10-01';

/** The ARM path of the emulator's default workspace. */
export function workspacePathOf(emulator: AzureMlEmulator): string {
  const { subscriptionId, resourceGroup, workspace } = emulator.settings;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}`;
}

/** One raw HTTPS request with a bearer token, trusting only the emulator's certificate. */
export function sendTo(
  emulator: AzureMlEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      new URL(path, emulator.url),
      {
        method,
        agent: emulator.agent,
        headers: {
          authorization: 'Bearer test-token',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (incoming) => {
        let text = '';
        incoming.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Polls an operation URL the emulator returned until `done`. */
export async function pollUntil(
  emulator: AzureMlEmulator,
  url: string,
  done: (answer: Answer) => boolean,
): Promise<Answer> {
  const { pathname, search } = new URL(url);
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await sendTo(emulator, 'GET', `${pathname}${search}`);
    if (done(answer)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`operation at ${url} did not finish`);
}
