import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localGpu } from '../src/index.js';
import { referenceMlp, seededRandom } from '../src/onnx/index.js';
import {
  inProcessReference,
  maxDifference,
  post,
  referenceInput,
  temporaryFolder,
  v2Body,
  writeModel,
} from './helpers.js';

/** What came back on a raw connection: a status and a body, or a reset. */
interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  reset: boolean;
}

/** Sends raw bytes on a new connection and reads the answer until the server closes it (bounded). */
function sendRaw(port: number, bytes: Buffer): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: split < 0 ? '' : text.slice(split + 4), reset });
    });
    // No half-close: Node's server would abort the request on it (the server closes: Connection: close).
    socket.write(bytes);
  });
}

/** A raw HTTP/1.1 request that closes its connection after the answer. */
function request(
  method: string,
  path: string,
  body: string | Buffer = '',
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-length'))
    lines.push(`Content-Length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

describe('hostile requests', () => {
  const folder = temporaryFolder();
  let client: MlscaleClient;
  let url: string;
  let port: number;
  const infer = '/v2/models/hostile/infer';

  beforeAll(async () => {
    client = createMlscale({ backend: localGpu({ root: folder.path }), polling: { minDelayMs: 20 } });
    const status = await client.deploy({
      name: 'hostile',
      model: { uri: writeModel(folder.path, 'reference.onnx', referenceMlp()) },
    });
    url = status.endpoint!.url;
    port = Number(new URL(url).port);
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  const valid = v2Body(referenceInput(3), 1);
  const tensor = (fields: Record<string, unknown>, top: Record<string, unknown> = {}) =>
    JSON.stringify({
      ...top,
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5), ...fields },
      ],
    });

  it('answers each kind of hostile request with the status that names it and a JSON reason', async () => {
    const deepData = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],"data":${'['.repeat(20_000)}1${']'.repeat(20_000)}}]}`;
    const deepShape = `{"inputs":[{"name":"input","datatype":"FP32","shape":${'['.repeat(5_000)}1${']'.repeat(5_000)},"data":[1]}]}`;
    const cases: [string, Buffer, number, RegExp][] = [
      ['data nested 20,000 deep', request('POST', infer, deepData), 400, /nested deeper than the shape/],
      [
        'a shape nested 5,000 deep',
        request('POST', infer, deepShape),
        400,
        /expected "shape" of non-negative/,
      ],
      [
        'a 79-byte request asking for [1e9, 784]',
        request(
          'POST',
          infer,
          '{"inputs":[{"name":"input","datatype":"FP32","shape":[1000000000,784],"data":[1]}]}',
        ),
        400,
        /needs 784000000000 values; a body of this size holds at most/,
      ],
      [
        'an FP32 overflow (1e39)',
        request('POST', infer, tensor({ data: [1e39, ...new Array(783).fill(0)] })),
        400,
        /finite numbers for FP32, got 1e\+39 at element 0/,
      ],
      [
        'a numeric id',
        request('POST', infer, tensor({}, { id: 7 })),
        400,
        /expected "id" to be a string, got 7/,
      ],
      [
        'parameters that are not an object',
        request('POST', infer, tensor({}, { parameters: 'x' })),
        400,
        /expected "parameters" to be an object/,
      ],
      [
        "Triton's class_count",
        request(
          'POST',
          infer,
          tensor({}, { outputs: [{ name: 'probabilities', parameters: { class_count: 3 } }] }),
        ),
        400,
        /classification extension is not served/,
      ],
      [
        'a malformed %-escape',
        request('GET', '/v2/models/hostile/versions/%E0%A4%A'),
        400,
        /malformed %-encoding/,
      ],
      [
        'a 20 kB URL',
        request('GET', `/v2/models/${'x'.repeat(20_000)}`),
        414,
        /request URL is 200\d\d bytes; at most 8192/,
      ],
      [
        '40 kB of headers',
        request('GET', '/v2/health/live', '', { 'X-Padding': 'y'.repeat(40_000) }),
        431,
        /request headers are \d+ bytes; at most 16384/,
      ],
      [
        'headers past the parser',
        request('GET', '/v2/health/live', '', { 'X-Padding': 'y'.repeat(100_000) }),
        431,
        /HPE_HEADER_OVERFLOW/,
      ],
      [
        'a duplicate Content-Length',
        Buffer.from(`POST ${infer} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`),
        400,
        /malformed HTTP request \(HPE_UNEXPECTED_CONTENT_LENGTH\)|malformed HTTP request/,
      ],
      [
        'a header name with a space',
        Buffer.from('GET /v2 HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'),
        400,
        /malformed HTTP request \(HPE_INVALID_HEADER_TOKEN\)/,
      ],
      [
        'form-urlencoded',
        request('POST', infer, 'a=1&b=2', { 'Content-Type': 'application/x-www-form-urlencoded' }),
        415,
        /Content-Type "application\/x-www-form-urlencoded" is not supported here/,
      ],
      [
        'an unknown Content-Encoding',
        request('POST', infer, valid, { 'Content-Type': 'application/json', 'Content-Encoding': 'compress' }),
        415,
        /Content-Encoding "compress" is not supported; send gzip, deflate, br/,
      ],
      [
        'gzip that is not gzip',
        request('POST', infer, valid, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }),
        400,
        /not valid gzip data/,
      ],
    ];
    for (const [what, bytes, status, reason] of cases) {
      const answer = await sendRaw(port, bytes);
      expect(answer.reset, what).toBe(false);
      expect(answer.status, what).toBe(status);
      expect(JSON.parse(answer.body).error, what).toMatch(reason);
    }
  });

  it('serves gzip and deflate bodies, and Vertex instances by input name', async () => {
    const reference = await inProcessReference();
    const input = referenceInput(3);
    const expected = await reference(input, 1);
    const gzipped = await sendRaw(
      port,
      request('POST', infer, gzipSync(valid), {
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
      }),
    );
    expect(gzipped.status).toBe(200);
    expect(maxDifference(JSON.parse(gzipped.body).outputs[0].data, expected)).toBeLessThan(1e-5);
    const named = await post(
      `${url}/v1/projects/p/locations/l/endpoints/e:predict`,
      JSON.stringify({ instances: [{ input: Array.from(input) }] }),
    );
    expect(named.status).toBe(200);
    expect(maxDifference(JSON.parse(named.text).predictions[0], expected)).toBeLessThan(1e-5);
  });

  it('answers a 7 MiB body with a 413 the client reads, and the connection serves on', async () => {
    const big = Buffer.alloc(7 * 1024 * 1024, 0x20);
    const response = await fetch(`${url}${infer}`, {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
    expect((await response.json()).error).toMatch(/over the limit of 6291456 bytes/);
    const after = await post(`${url}${infer}`, valid);
    expect(after.status).toBe(200);
  });

  it('answers 1,200 generated hostile requests with no 5xx, no reset and no null, and serves correctly throughout', async () => {
    const random = seededRandom(2026);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random.uniform() * items.length)]!;
    const integer = (below: number) => Math.floor(random.uniform() * below);
    const reference = await inProcessReference();
    const probeInput = referenceInput(3);
    const probeExpected = await reference(probeInput, 1);
    const bodyMutations: ((text: string) => string)[] = [
      (text) => text.slice(0, integer(text.length)),
      (text) => {
        const at = integer(text.length);
        return (
          text.slice(0, at) +
          pick(['"', '{', ']', ',', 'x', '-', 'e', '\u0000', '9', '\\', '\u00ff']) +
          text.slice(at + 1)
        );
      },
      (text) =>
        text.replace('784', pick(['0', '-1', '1e9', '784.5', '"784"', 'null', '[784]', '99999999999'])),
      (text) => text.replace('FP32', pick(['FP16', 'BYTES', 'INT64', 'BOOL', '', 'fp32', 'UINT8'])),
      (text) => text.replace('"input"', pick(['1', 'null', '""', '"Input"', '[]', '{}'])),
      (text) =>
        text.replace(
          /0\.\d+/,
          pick(['1e39', '-1e39', '1e308', 'NaN', 'Infinity', '"0.5"', 'true', '[[[[1]]]]']),
        ),
      (text) =>
        text.replace(
          '{"inputs"',
          pick([
            '{"id":1,"inputs"',
            '{"parameters":[],"inputs"',
            '{"outputs":{},"inputs"',
            '{"outputs":[{"name":"probabilities","parameters":{"binary_data":"yes"}}],"inputs"',
          ]),
        ),
      (text) => text.replace('"data":[', `"data":${'['.repeat(integer(3000))}`),
      () =>
        JSON.stringify(
          pick([
            null,
            1,
            'x',
            [],
            {},
            { inputs: {} },
            { inputs: [null] },
            { inputs: [{ name: 'input' }] },
            { instances: 'x' },
            { instances: [[]] },
          ]),
        ),
    ];
    const paths = [
      infer,
      infer,
      infer,
      '/invocations',
      '/v1/projects/p/locations/l/endpoints/e:predict',
      '/v2/models/hostile/versions/%zz/infer',
      '/endpoints/%E0%A4%A/invocations',
      '/v2/models/hostile',
      `/v2/${'a'.repeat(integer(30_000))}`,
    ];
    const contentTypes = [
      'application/json',
      'text/csv',
      'application/octet-stream',
      'application/x-npy',
      'application/jsonlines',
      'multipart/form-data; boundary=x',
      'application/vnd.sagemaker-triton.binary+json;json-header-size=10',
    ];
    const rawMutations: (() => Buffer)[] = [
      () =>
        Buffer.from(
          `${pick(['G@T', 'POST', 'PATCH', 'BREW'])} ${pick(paths)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        ),
      () =>
        Buffer.from(
          `POST ${infer} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\nContent-Length: ${integer(9)}\r\n\r\nhello`,
        ),
      () =>
        Buffer.from(
          `POST ${infer} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n${pick(['zz', '-1', 'ffffffffffffffffff', '3'])}\r\nabc\r\n0\r\n\r\n`,
        ),
      () =>
        Buffer.from(
          `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${pick(['X:\u0000y', 'X y: 1', ': empty', 'X-Long: '.padEnd(integer(90_000), 'z')])}\r\n\r\n`,
          'latin1',
        ),
      () =>
        Buffer.from(
          `GET /${'\u0001%'.repeat(integer(40))} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
          'latin1',
        ),
    ];
    const generate = (): Buffer => {
      if (random.uniform() < 0.2) return pick(rawMutations)();
      let text = valid;
      for (let count = 1 + integer(3); count > 0; count--) text = pick(bodyMutations)(text);
      const headers: Record<string, string> = {
        'Content-Type': random.uniform() < 0.7 ? 'application/json' : pick(contentTypes),
      };
      if (random.uniform() < 0.1)
        headers['Inference-Header-Content-Length'] = pick(['-1', 'x', String(integer(100_000)), '12']);
      if (random.uniform() < 0.1) {
        headers['Content-Encoding'] = pick(['gzip', 'deflate', 'br', 'identity']);
        return request('POST', pick(paths), random.uniform() < 0.5 ? gzipSync(text) : text, headers);
      }
      return request('POST', pick(paths), text, headers);
    };

    const statuses = new Map<number, number>();
    let sent = 0;
    for (let round = 0; round < 150; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => sendRaw(port, generate())));
      for (const answer of answers) {
        sent++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.reset, answer.headers).toBe(false);
        expect(answer.status, answer.body.slice(0, 300)).toBeGreaterThanOrEqual(200);
        expect(answer.status, answer.body.slice(0, 300)).toBeLessThan(500);
        const json = /content-type: application\/json/i.test(answer.headers)
          ? JSON.parse(answer.body)
          : undefined;
        if (answer.status >= 400) expect(typeof json?.error, answer.headers).toBe('string');
        else expect(answer.body.includes('null'), answer.body.slice(0, 300)).toBe(false);
      }
      if (round % 15 === 0) {
        const probe = await post(`${url}${infer}`, valid);
        expect(probe.status).toBe(200);
        expect(maxDifference(JSON.parse(probe.text).outputs[0].data, probeExpected)).toBeLessThan(1e-5);
      }
    }
    expect(sent).toBe(1200);
    // The mutations reach deep: most are refused, some still parse and are served.
    expect(statuses.get(400)).toBeGreaterThan(400);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
  });
});
