import { Agent, request as httpRequest } from 'node:http';
import { createMlscale } from '@mlscale/core';
import { afterAll, describe, expect, it } from 'vitest';
import { localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import { delay, referenceInput, temporaryFolder, v2Body, writeModel } from './helpers.js';

/** POSTs `body` and resolves to the status and the Connection header of the answer. */
function post(url: string, body: string, agent?: Agent): Promise<{ status: number; connection: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            connection: String(response.headers.connection ?? ''),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A request whose body is half sent: in flight until `finish()`. */
function halfSent(url: string, body: string): { finish(): void; status: Promise<number> } {
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  let finish = () => {};
  const status = new Promise<number>((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': bytes.length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.write(bytes.subarray(0, half));
    finish = () => request.end(bytes.subarray(half));
  });
  return { finish: () => finish(), status };
}

describe('draining', () => {
  const folder = temporaryFolder();
  afterAll(() => folder.remove());

  it('answers requests on open keep-alive connections with Connection: close until in-flight ones end', async () => {
    const backend = localGpu({ root: folder.path });
    const client = createMlscale({ backend, polling: { minDelayMs: 10, maxDelayMs: 50 } });
    const status = await client.deploy({
      name: 'draining',
      model: { uri: writeModel(folder.path, 'reference.onnx', referenceMlp()) },
    });
    const url = `${status.endpoint!.url}/v2/models/draining/infer`;
    const body = v2Body(referenceInput(4), 1);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // The connection is open and kept alive before the drain begins.
      expect(await post(url, body, agent)).toEqual({ status: 200, connection: 'keep-alive' });
      const inFlight = halfSent(url, body);
      await expect
        .poll(() => backend.deployments.runtime('draining')?.activeRequests, { timeout: 10_000 })
        .toBe(1);
      const deleted = client.delete('draining');
      // On the open connection, requests are still answered, and once the drain has begun they say
      // Connection: close (so the client opens its next one elsewhere) instead of being reset.
      let answer = await post(url, body, agent);
      for (let attempt = 0; attempt < 200 && answer.connection !== 'close'; attempt++) {
        expect(answer).toEqual({ status: 200, connection: 'keep-alive' });
        await delay(10);
        answer = await post(url, body, agent);
      }
      expect(answer).toEqual({ status: 200, connection: 'close' });
      inFlight.finish();
      expect(await inFlight.status).toBe(200);
      await deleted;
    } finally {
      agent.destroy();
      await client.close();
    }
  });
});
