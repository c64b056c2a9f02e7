import { describe, expect, it } from 'vitest';
import {
  decodeV2BinaryOutput,
  flaskJsonBody,
  inputRows,
  v2BinaryBody,
  v2JsonBody,
} from '../lib/request-bodies.mjs';

describe('request bodies', () => {
  it('makes the same seeded rows every time, in [-2, 2)', () => {
    const rows = inputRows(3);
    expect(rows).toHaveLength(3 * 784);
    expect(inputRows(3)).toEqual(rows);
    expect(inputRows(3, 8)).not.toEqual(rows);
    expect(Math.min(...rows)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...rows)).toBeLessThan(2);
  });

  it('writes a V2 JSON request and a Flask request carrying the same float32 values', () => {
    const one = inputRows(1);
    const v2 = JSON.parse(v2JsonBody(one));
    expect(v2.inputs[0]).toMatchObject({ name: 'input', shape: [1, 784], datatype: 'FP32' });
    expect(Float32Array.from(v2.inputs[0].data)).toEqual(one);
    expect(JSON.parse(flaskJsonBody(one)).input).toEqual(v2.inputs[0].data);
  });

  it('writes a V2 binary request whose header declares exactly the bytes that follow', () => {
    const rows = inputRows(32);
    const { body, headerLength } = v2BinaryBody(rows);
    const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
    expect(header.inputs[0]).toMatchObject({
      shape: [32, 784],
      parameters: { binary_data_size: 32 * 784 * 4 },
    });
    expect(header.parameters).toEqual({ binary_data_output: true });
    expect(body.length).toBe(headerLength + 32 * 784 * 4);
    expect(new Float32Array(new Uint8Array(body.subarray(headerLength)).buffer)).toEqual(rows);
  });

  it('reads the probabilities out of a binary V2 response', () => {
    const values = Float32Array.from([0.25, 0.75]);
    const header = Buffer.from(
      JSON.stringify({
        outputs: [
          { name: 'other', parameters: { binary_data_size: 4 } },
          { name: 'probabilities', parameters: { binary_data_size: 8 } },
        ],
      }),
    );
    const body = Buffer.concat([header, Buffer.alloc(4), Buffer.from(values.buffer)]);
    expect(decodeV2BinaryOutput(body, header.length)).toEqual(values);
    expect(() => decodeV2BinaryOutput(Buffer.from('{"outputs":[]}'), 14)).toThrow(
      /no output 'probabilities'/,
    );
  });
});
