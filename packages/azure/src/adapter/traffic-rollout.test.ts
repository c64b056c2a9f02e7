import { describe, expect, it } from 'vitest';
import { sameTraffic, wantedTraffic } from './traffic-rollout.js';

describe('traffic maps', () => {
  it('compare by share, ARM names case-insensitively, a 0 share as no share', () => {
    expect(sameTraffic({ Blue: 100, green: 0 }, { blue: 100 })).toBe(true);
    expect(sameTraffic({ blue: 90, green: 10 }, { blue: 100 })).toBe(false);
    expect(sameTraffic(undefined, {})).toBe(true);
  });

  it('add up the weights of targets that land on one deployment, and leave out unknown ones', () => {
    expect(
      wantedTraffic([
        { deploymentName: 'a-v1', weight: 30 },
        { deploymentName: 'a-v1', weight: 20 },
        { weight: 50 },
      ]),
    ).toEqual({ 'a-v1': 50 });
  });
});
