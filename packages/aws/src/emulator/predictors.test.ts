import { describe, expect, it } from 'vitest';
import { builtInPredictor, type InvocationContext } from './predictors.js';

function context(body: unknown, contentType = 'application/json'): InvocationContext {
  return {
    endpointName: 'e',
    variantName: 'AllTraffic',
    modelName: 'm',
    environment: {},
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    contentType,
  };
}

describe('builtInPredictor', () => {
  it('sums and argmaxes each row of each V2 input, keeping the request id and requested outputs', async () => {
    const result = await builtInPredictor(
      context({
        id: 'r1',
        inputs: [
          {
            name: 'a',
            shape: [2, 3],
            datatype: 'FP32',
            data: [
              [1, 5, 2],
              [9, 0, -1],
            ],
          },
          { name: 'b', shape: [1, 2], datatype: 'INT32', data: [3, 4] },
        ],
        outputs: [{ name: 'a_sum' }, { name: 'b_argmax' }],
      }),
    );
    expect(JSON.parse(result.body.toString())).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'r1',
      outputs: [
        { name: 'a_sum', datatype: 'FP64', shape: [2], data: [8, 8] },
        { name: 'b_argmax', datatype: 'INT64', shape: [1], data: [1] },
      ],
    });
  });

  it('answers instances and CSV, and 400 for what it cannot read', async () => {
    const instances = await builtInPredictor(
      context({
        instances: [
          [1, 2],
          [5, 3],
        ],
      }),
    );
    expect(JSON.parse(instances.body.toString())).toEqual({
      predictions: [
        { sum: 3, argmax: 1 },
        { sum: 8, argmax: 0 },
      ],
    });
    expect((await builtInPredictor(context('1,2\n3,4\n', 'text/csv'))).body).toBe('3\n7');
    expect((await builtInPredictor(context('x,y', 'text/csv'))).statusCode).toBe(400);
    expect((await builtInPredictor(context('{bad'))).statusCode).toBe(400);
    const mismatch = await builtInPredictor(
      context({ inputs: [{ name: 'a', shape: [2, 2], data: [1, 2, 3] }] }),
    );
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body.toString()).toContain('expected 4 values for shape [2, 2], got 3');
  });
});
