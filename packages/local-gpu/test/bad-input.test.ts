import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
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

describe('bad input', () => {
  const folder = temporaryFolder();
  let client: MlscaleClient;
  let url: string;
  let infer: string;

  beforeAll(async () => {
    client = createMlscale({
      backend: localGpu({ root: folder.path }),
      polling: { minDelayMs: 20, maxDelayMs: 100 },
    });
    const status = await client.deploy({
      name: 'guarded',
      model: { uri: writeModel(folder.path, 'reference.onnx', referenceMlp()) },
      providerOptions: { local: { maxBodyBytes: 64 * 1024 } },
    });
    url = status.endpoint!.url;
    infer = `${url}/v2/models/guarded/infer`;
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  const tensor = (fields: Record<string, unknown>) =>
    JSON.stringify({
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5), ...fields },
      ],
    });
  const cases: [string, string | Uint8Array, RegExp, Record<string, string>?][] = [
    ['invalid JSON', '{"inputs": [', /^invalid JSON: .*; expected a JSON object$/],
    ['not an object', '[1, 2, 3]', /expected a JSON object with "inputs"/],
    ['no inputs', '{"id": "x"}', /expected "inputs": a non-empty array/],
    [
      'unknown input',
      tensor({ name: 'pixels' }),
      /unknown input 'pixels': expected inputs 'input' FP32 \[-1, 784\]/,
    ],
    [
      'an extra input',
      JSON.stringify({
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0) },
          { name: 'extra', datatype: 'FP32', shape: [1], data: [1] },
        ],
      }),
      /unknown input 'extra'/,
    ],
    [
      'wrong datatype',
      tensor({ datatype: 'INT32', data: new Array(784).fill(1) }),
      /input 'input': expected datatype FP32, got INT32/,
    ],
    ['unknown datatype', tensor({ datatype: 'FLOAT' }), /unsupported datatype "FLOAT": expected one of FP32/],
    ['shape and data disagree', tensor({ shape: [2, 784] }), /shape needs 1568 values, got 784/],
    [
      'shape the model does not take',
      tensor({ shape: [1, 783], data: new Array(783).fill(0) }),
      /expected shape \[-1, 784\], got \[1, 783\] \(dimension 1 must be 784\)/,
    ],
    ['negative dims', tensor({ shape: [-1, 784] }), /expected "shape" of non-negative integers/],
    [
      'a non-finite number',
      tensor({ data: new Array(784).fill(0) }).replace('"data":[0,', '"data":[1e999,'),
      /expected finite numbers for FP32, got Infinity at element 0/,
    ],
    [
      'strings as data',
      tensor({ data: new Array(784).fill('a') }),
      /expected finite numbers for FP32, got "a" at element 0/,
    ],
    [
      'unknown output',
      JSON.stringify({ ...JSON.parse(tensor({})), outputs: [{ name: 'logits' }] }),
      /unknown output 'logits': expected one of 'probabilities'/,
    ],
  ];

  for (const [what, body, message] of cases) {
    it(`answers 400 for ${what}`, async () => {
      const response = await post(infer, body);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text).error).toMatch(message);
    });
  }

  it('refuses binary requests whose sizes lie', async () => {
    const input = referenceInput(1);
    const send = (size: number, extra = 0, headerLength?: number) => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: size } },
          ],
        }),
      );
      const payload = Buffer.concat([header, Buffer.from(input.buffer), Buffer.alloc(extra)]);
      return post(infer, payload, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(headerLength ?? header.length),
      });
    };
    const tooBig = await send(4 * 784 + 400);
    expect(tooBig.status).toBe(400);
    expect(JSON.parse(tooBig.text).error).toMatch(
      /binary_data_size 3536 runs past the end of the body \(3136 bytes left\)/,
    );
    const tooSmall = await send(100);
    expect(tooSmall.status).toBe(400);
    expect(JSON.parse(tooSmall.text).error).toMatch(
      /binary_data_size is 100 bytes, but shape and FP32 need 3136/,
    );
    const trailing = await send(4 * 784, 8);
    expect(JSON.parse(trailing.text).error).toMatch(
      /inputs declare 3136 bytes of tensor data, but 3144 follow the JSON header/,
    );
    const headerTooLong = await send(4 * 784, 0, 1 << 20);
    expect(JSON.parse(headerTooLong.text).error).toMatch(/JSON header length 1048576 does not fit a body of/);
  });

  it('answers 413 for a body over the limit, 404 and 405 for wrong routes and methods', async () => {
    const large = await post(infer, v2Body(referenceInput(2, 40), 40));
    expect(large.status).toBe(413);
    expect(JSON.parse(large.text).error).toMatch(/over the limit of 65536 bytes/);
    const route = await fetch(`${url}/nowhere`);
    expect(route.status).toBe(404);
    expect((await fetch(`${url}/v2/models/guarded/infer`)).status).toBe(405);
    const other = await post(`${url}/v2/models/other/infer`, v2Body(referenceInput(1), 1));
    expect(other.status).toBe(404);
  });

  it('keeps serving correct answers after a fuzz of malformed requests', async () => {
    const random = seededRandom(42);
    const valid = v2Body(referenceInput(3), 1);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random.uniform() * items.length)]!;
    const mutations = [
      (text: string) => text.slice(0, Math.floor(random.uniform() * text.length)),
      (text: string) => {
        const position = Math.floor(random.uniform() * text.length);
        return (
          text.slice(0, position) +
          pick(['"', '{', ']', ',', 'x', '-', 'e', '\u0000', '9']) +
          text.slice(position + 1)
        );
      },
      (text: string) => text.replace(/784/, String(Math.floor(random.uniform() * 2000) - 500)),
      (text: string) => text.replace('FP32', pick(['FP16', 'BYTES', 'INT64', 'BOOL', '', 'fp32'])),
      (text: string) => text.replace('"input"', pick(['1', 'null', '""', '"Input"', '[]'])),
      () =>
        JSON.stringify(
          pick([null, 1, 'x', [], {}, { inputs: {} }, { inputs: [null] }, { inputs: [{ name: 'input' }] }]),
        ),
    ];
    const statuses = new Map<number, number>();
    for (let round = 0; round < 30; round++) {
      const batch = Array.from({ length: 10 }, () => {
        let text = valid;
        for (let count = 1 + Math.floor(random.uniform() * 3); count > 0; count--)
          text = pick(mutations)(text);
        return post(infer, text);
      });
      for (const response of await Promise.all(batch)) {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status === 200 || (response.status >= 400 && response.status < 500)).toBe(true);
        if (response.status !== 200) expect(typeof JSON.parse(response.text).error).toBe('string');
      }
    }
    expect(statuses.get(400)).toBeGreaterThan(100);
    const reference = await inProcessReference();
    const input = referenceInput(3);
    const after = await post(infer, valid);
    expect(after.status).toBe(200);
    expect(maxDifference(JSON.parse(after.text).outputs[0].data, await reference(input, 1))).toBeLessThan(
      1e-5,
    );
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
  });

  it('fails a deploy of a file that is not ONNX, or is not there, with InvalidSpec', async () => {
    const junk = writeModel(folder.path, 'junk.onnx', new TextEncoder().encode('{"this is": "not a model"}'));
    const notOnnx = await client
      .deploy({ name: 'junk', model: { uri: junk } })
      .catch((error: unknown) => error);
    expect(MlscaleError.hasCode(notOnnx, 'InvalidSpec')).toBe(true);
    expect((notOnnx as Error).message).toMatch(/junk\.onnx is not a valid ONNX model/);
    const missing = await client
      .deploy({ name: 'missing', model: { uri: `${folder.path}/absent.onnx` } })
      .catch((error: unknown) => error);
    expect(MlscaleError.hasCode(missing, 'InvalidSpec')).toBe(true);
    expect((missing as Error).message).toMatch(/absent\.onnx: no such file or folder/);
    const remote = await client
      .deploy({ name: 'remote', model: { uri: 's3://bucket/model.onnx' } })
      .catch((error: unknown) => error);
    expect((remote as Error).message).toMatch(/reads local files; got a s3:\/\/ URI/);
  });
});
