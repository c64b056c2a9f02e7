import { describe, expect, it } from 'vitest';
import { type DecideScalingInput, decideScaling, desiredReplicas } from './target-tracking.js';

describe('desiredReplicas', () => {
  it.each([
    // current, metric, target, min, max, tolerance → desired
    [2, 100, 50, 1, 10, 0.1, 4], // double the load per replica: double the replicas
    [4, 25, 50, 1, 10, 0.1, 2], // half: half
    [3, 100, 100, 1, 10, 0.1, 3], // on target (and no float drift to 4)
    [3, 105, 100, 1, 10, 0.1, 3], // inside the tolerance band
    [3, 115, 100, 1, 10, 0.1, 4], // outside it: ceil(3.45)
    [5, 500, 50, 1, 8, 0.1, 8], // clamped to max
    [5, 1, 50, 2, 8, 0.1, 2], // clamped to min
    [3, 0, 10, 0, 5, 0.1, 0], // idle with min 0: zero
    [0, 0, 10, 0, 5, 0.1, 0], // zero stays zero without demand
    [0, 1, 10, 0, 5, 0.1, 1], // any demand from zero: at least one
    [0, 35, 10, 0, 5, 0.1, 4], // demand from zero: ceil(35 / 10)
    [2, Number.NaN, 10, 1, 5, 0.1, 2], // no metric: hold
  ])(
    'current %i, metric %d, target %d, [%i, %i], tolerance %d → %i',
    (currentReplicas, metricValue, targetValue, minReplicas, maxReplicas, tolerance, expected) => {
      expect(
        desiredReplicas({ currentReplicas, metricValue, targetValue, minReplicas, maxReplicas, tolerance }),
      ).toBe(expected);
    },
  );

  it('refuses a target of zero', () => {
    expect(() =>
      desiredReplicas({
        currentReplicas: 1,
        metricValue: 1,
        targetValue: 0,
        minReplicas: 0,
        maxReplicas: 1,
        tolerance: 0,
      }),
    ).toThrow(RangeError);
  });
});

describe('decideScaling', () => {
  const policy = {
    minReplicas: 0,
    maxReplicas: 10,
    target: { metric: 'concurrentRequests' as const, value: 4 },
    scaleInCooldownSeconds: 60,
    scaleOutCooldownSeconds: 10,
    tolerance: 0.1,
    scaleToZeroAfterSeconds: 30,
  };
  const at = (seconds: number) => seconds * 1000;
  const decide = (input: Partial<DecideScalingInput>) =>
    decideScaling({ policy, currentReplicas: 2, metricValue: 4, now: at(1000), history: {}, ...input });

  it.each([
    ['scales out on load', { metricValue: 8 }, 'scaleOut', 4],
    ['holds on target', { metricValue: 4 }, 'none', 2],
    ['waits out the scale-out cooldown', { metricValue: 8, history: { lastScaleOutAt: at(995) } }, 'none', 2],
    [
      'scales out once the cooldown passed',
      { metricValue: 8, history: { lastScaleOutAt: at(985) } },
      'scaleOut',
      4,
    ],
    ['scales in when idle enough', { metricValue: 1, history: { lastScaleOutAt: at(900) } }, 'scaleIn', 1],
    [
      'waits out the scale-in cooldown after a scale-out',
      { metricValue: 1, history: { lastScaleOutAt: at(950) } },
      'none',
      2,
    ],
    [
      'waits out the scale-in cooldown after a scale-in',
      { metricValue: 1, history: { lastScaleInAt: at(990) } },
      'none',
      2,
    ],
    [
      'scales from zero at once, whatever the cooldowns',
      { currentReplicas: 0, metricValue: 1, history: { lastScaleInAt: at(999), lastScaleOutAt: at(999) } },
      'scaleOut',
      1,
    ],
    [
      'keeps one replica until idle long enough',
      { currentReplicas: 2, metricValue: 0, history: { idleSince: at(990) } },
      'scaleIn',
      1,
    ],
    [
      'holds at one replica until idle long enough',
      { currentReplicas: 1, metricValue: 0, history: { idleSince: at(990) } },
      'none',
      1,
    ],
    [
      'scales to zero after the idle period',
      { currentReplicas: 1, metricValue: 0, history: { idleSince: at(960) } },
      'scaleIn',
      0,
    ],
  ] as const)('%s', (_title, input, action, replicas) => {
    const decision = decide(input as Partial<DecideScalingInput>);
    expect(decision.action).toBe(action);
    expect(decision.replicas).toBe(replicas);
    expect(decision.reason).toContain('concurrentRequests');
  });
});
