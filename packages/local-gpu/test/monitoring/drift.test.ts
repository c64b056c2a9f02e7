import { featureBaselineSchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import {
  type AlertEvent,
  computeFeatureBaseline,
  createLocalMonitoring,
  featureBin,
  populationStabilityIndex,
} from '../../src/monitoring/index.js';
import { createFakeClock, seededNormal } from './fake-clock.js';

const featureCount = 8;
const means = [0, 5, -3, 10, 0.5, 100, -20, 2];
const deviations = [1, 2, 0.5, 3, 0.1, 15, 4, 1];

function rows(count: number, seed: number, shift: (feature: number) => number = () => 0): Float32Array {
  const normal = seededNormal(seed);
  const values = new Float32Array(count * featureCount);
  for (let row = 0; row < count; row++) {
    for (let feature = 0; feature < featureCount; feature++) {
      values[row * featureCount + feature] = normal(means[feature]! + shift(feature), deviations[feature]!);
    }
  }
  return values;
}

describe('feature baseline', () => {
  it('records mean, deviation and quantile bins that match the training data', () => {
    const baseline = computeFeatureBaseline({ values: rows(5000, 1), featureCount });
    expect(baseline).toHaveLength(featureCount);
    baseline.forEach((feature, index) => {
      expect(featureBaselineSchema.safeParse(feature).success).toBe(true);
      expect(feature.mean).toBeCloseTo(means[index]!, 0);
      expect(Math.abs(feature.standardDeviation - deviations[index]!) / deviations[index]!).toBeLessThan(
        0.05,
      );
      expect(feature.binEdges.length).toBe(feature.binFractions.length + 1);
      for (let edge = 1; edge < feature.binEdges.length; edge++) {
        expect(feature.binEdges[edge]!).toBeGreaterThan(feature.binEdges[edge - 1]!);
      }
      expect(feature.binFractions.reduce((total, share) => total + share, 0)).toBeCloseTo(1, 9);
      // Deciles: ten bins of about a tenth, plus the empty bin below the training minimum.
      expect(feature.binFractions[0]).toBe(0);
      for (const share of feature.binFractions.slice(1)) expect(share).toBeCloseTo(0.1, 2);
    });
  });

  it('keeps constant and binary features able to show a shift', () => {
    const baseline = computeFeatureBaseline([
      [0, 1],
      [0, 0],
      [0, 1],
      [0, 0],
    ]);
    const [constant, binary] = baseline;
    const share = (feature: typeof constant, value: number) => {
      const counts = new Array(feature!.binFractions.length).fill(0);
      counts[featureBin(feature!.binEdges, value)] += 1;
      return populationStabilityIndex(feature!.binFractions, counts, 1);
    };
    expect(share(constant, 0)).toBeCloseTo(0, 6);
    expect(share(constant, 0.5)).toBeGreaterThan(1);
    expect(share(constant, -0.5)).toBeGreaterThan(1);
    expect(share(binary, 2)).toBeGreaterThan(1);
    expect(binary!.binFractions.filter((fraction) => fraction > 0)).toEqual([0.5, 0.5]);
  });

  it('rejects ragged or non-finite training rows with InvalidSpec', () => {
    expect(() => computeFeatureBaseline([[1, 2], [3]])).toThrow(/rows\[1\]|Training row 1/);
    expect(() => computeFeatureBaseline([[1, Number.NaN]])).toThrow(/not a finite number/);
    expect(() => computeFeatureBaseline({ values: [1, 2, 3], featureCount: 2 })).toThrow(
      /whole number of rows/,
    );
    expect(() => computeFeatureBaseline([[1]], { bins: 1 })).toThrow(/bins/);
  });
});

describe('drift', () => {
  async function driveTraffic(shift: (feature: number) => number, seed: number) {
    const clock = createFakeClock();
    const events: AlertEvent[] = [];
    const monitoring = createLocalMonitoring({
      clock,
      sampleIntervalMs: false,
      readProcessStats: () => ({ cpuUtilization: 1, memoryUtilization: 1 }),
      drift: { windowSeconds: 60, minimumRows: 200 },
      onAlert: (event) => events.push(event),
    });
    try {
      const baseline = computeFeatureBaseline({ values: rows(5000, 1), featureCount });
      const monitor = monitoring.deployment('demo', { baseline });
      await monitoring.doPutAlert(
        {
          name: 'input-drift',
          target: { deployment: 'demo' },
          metric: 'drift',
          stat: 'maximum',
          comparator: '>',
          threshold: 0.25,
          forSeconds: 10,
          periodSeconds: 5,
        },
        {},
      );
      // 120 s of traffic, 4 requests a second of 5 rows each.
      const live = rows(120 * 20, seed, shift);
      for (let second = 0; second < 120; second++) {
        for (let request = 0; request < 4; request++) {
          const offset = (second * 20 + request * 5) * featureCount;
          monitor.observeInputs(live.subarray(offset, offset + 5 * featureCount));
        }
        await monitoring.tick();
        clock.advance(1000);
      }
      const drift = await monitoring.doMetrics(
        {
          target: { deployment: 'demo' },
          names: ['drift'],
          from: new Date(clock.now() - 60_000),
          to: new Date(clock.now()),
          periodSeconds: 60,
          stat: 'maximum',
        },
        {},
      );
      return { events, drift: drift.series[0]?.values[0] ?? null, report: monitor.driftReport()! };
    } finally {
      await monitoring.close();
    }
  }

  it('does not fire on traffic drawn like the training data', async () => {
    const { events, drift, report } = await driveTraffic(() => 0, 2);
    expect(events).toEqual([]);
    expect(drift).not.toBeNull();
    expect(drift!).toBeLessThan(0.1);
    expect(report.rows).toBeGreaterThanOrEqual(200);
  });

  it('fires the drift alert when one feature shifts by one standard deviation', async () => {
    const { events, drift, report } = await driveTraffic(
      (feature) => (feature === 3 ? deviations[3]! : 0),
      3,
    );
    expect(events.map((event) => event.type)).toEqual(['firing']);
    expect(events[0]!.rule.name).toBe('input-drift');
    expect(drift!).toBeGreaterThan(0.25);
    const worst = [...report.features].sort((left, right) => right.psi - left.psi)[0]!;
    expect(worst.feature).toBe(3);
  });
});
