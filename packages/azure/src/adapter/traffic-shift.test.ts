import { describe, expect, it } from 'vitest';
import { blendTraffic } from './traffic-shift.js';

describe('blendTraffic', () => {
  it('moves whole percentages from the old map to the new one', () => {
    expect(blendTraffic({ blue: 100 }, { green: 100 }, 0.1)).toEqual({ blue: 90, green: 10 });
    expect(blendTraffic({ blue: 100 }, { green: 100 }, 0.5)).toEqual({ blue: 50, green: 50 });
    expect(blendTraffic({ blue: 100 }, { green: 100 }, 1)).toEqual({ blue: 0, green: 100 });
  });

  it('always adds up to 100, giving the rounding to the largest remainders', () => {
    const blended = blendTraffic({ a: 50, b: 50 }, { c: 100 }, 1 / 3);
    expect(Object.values(blended).reduce((sum, value) => sum + value, 0)).toBe(100);
    for (const value of Object.values(blended)) expect(Number.isInteger(value)).toBe(true);
    expect(blended).toEqual({ a: 34, b: 33, c: 33 });
  });
});
