import { describe, expect, it } from 'vitest';
import { generateBlobs } from './dataset.js';
import { accumulateGradient, initialParameters, type MlpShape, parameterLayout } from './mlp.js';

describe('the MLP arithmetic', () => {
  it('computes the cross-entropy gradient that finite differences give', () => {
    const shape: MlpShape = { inputs: 3, hidden: 5, classes: 4 };
    const parameters = initialParameters(shape, 9);
    const data = generateBlobs({ seed: 4, samples: 6, features: 3, classes: 4 });
    const lossOf = (values: Float64Array) => {
      const scratch = new Float64Array(values.length);
      return data.features.reduce(
        (total, row, index) =>
          total + accumulateGradient(shape, values, row, data.labels[index]!, scratch).loss,
        0,
      );
    };
    const gradient = new Float64Array(parameterLayout(shape).size);
    for (const [index, row] of data.features.entries()) {
      accumulateGradient(shape, parameters, row, data.labels[index]!, gradient);
    }
    const step = 1e-6;
    for (let index = 0; index < gradient.length; index++) {
      const plus = Float64Array.from(parameters);
      const minus = Float64Array.from(parameters);
      plus[index]! += step;
      minus[index]! -= step;
      const numeric = (lossOf(plus) - lossOf(minus)) / (2 * step);
      expect(Math.abs(gradient[index]! - numeric)).toBeLessThan(1e-5);
    }
  });

  it('generates the same dataset for the same seed, and another for another seed', () => {
    const options = { samples: 20, features: 4, classes: 3 };
    expect(generateBlobs({ seed: 1, ...options })).toEqual(generateBlobs({ seed: 1, ...options }));
    expect(generateBlobs({ seed: 2, ...options }).features).not.toEqual(
      generateBlobs({ seed: 1, ...options }).features,
    );
  });
});
