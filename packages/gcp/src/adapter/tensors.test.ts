import { describe, expect, it } from 'vitest';
import { fromPredictions, toInstances } from './tensors.js';

describe('V2 tensors and Vertex instances', () => {
  it('turns the batch dimension into instances', () => {
    expect(
      toInstances({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2, 1], data: [1, 2, 3, 4] }] }),
    ).toEqual([
      [[1], [2]],
      [[3], [4]],
    ]);
    expect(toInstances({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2, 3] }] })).toEqual([
      1, 2, 3,
    ]);
    expect(
      toInstances({
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2, 1], data: [1, 2] },
          { name: 'b', datatype: 'BYTES', shape: [2], data: ['x', 'y'] },
        ],
      }),
    ).toEqual([
      { a: [1], b: 'x' },
      { a: [2], b: 'y' },
    ]);
  });

  it('turns predictions into tensors', () => {
    expect(
      fromPredictions(
        [
          [0.1, 0.9],
          [0.8, 0.2],
        ],
        undefined,
      ),
    ).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [2, 2], data: [0.1, 0.9, 0.8, 0.2] }]);
    expect(fromPredictions([{ label: 'cat', score: 0.9 }], ['score'])).toEqual([
      { name: 'score', datatype: 'FP32', shape: [1], data: [0.9] },
    ]);
    expect(fromPredictions([[1], [1, 2]], undefined)).toEqual([
      { name: 'predictions', datatype: 'BYTES', shape: [2], data: ['[1]', '[1,2]'] },
    ]);
  });
});
