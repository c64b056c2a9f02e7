import { describe, expect, it } from 'vitest';
import { latencyRelativeErrorBound } from '../../src/monitoring/latency-histogram.js';
import { createMetricStore } from '../../src/monitoring/metric-store.js';
import { seededRandom } from './fake-clock.js';

const start = Date.UTC(2026, 10, 1, 12, 0, 0);
const startSecond = start / 1000;

function exactPercentile(values: number[], quantile: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.max(1, Math.ceil(quantile * sorted.length)) - 1]!;
}

describe('metric store', () => {
  it('counts a known synthetic load exactly and aligns buckets on the period', () => {
    const store = createMetricStore({ retentionSeconds: 600 });
    const target = store.target('deployment/demo');
    // 120 s of load: second i gets i % 7 requests, every 5th request a 503, every 11th a 429.
    const expected = { invocations: [0, 0], errors4xx: [0, 0], errors5xx: [0, 0] };
    let request = 0;
    for (let second = 0; second < 120; second++) {
      const bucket = second < 60 ? 0 : 1;
      target.touchCounters(startSecond + second);
      for (let index = 0; index < second % 7; index++) {
        request += 1;
        const status = request % 5 === 0 ? 503 : request % 11 === 0 ? 429 : 200;
        target.counter('invocations').add(startSecond + second, 1);
        target.counter('errors4xx').add(startSecond + second, status === 429 ? 1 : 0);
        target.counter('errors5xx').add(startSecond + second, status === 503 ? 1 : 0);
        expected.invocations[bucket]! += 1;
        if (status === 429) expected.errors4xx[bucket]! += 1;
        if (status === 503) expected.errors5xx[bucket]! += 1;
      }
    }
    const result = store.query('deployment/demo', {
      names: ['invocations', 'errors4xx', 'errors5xx'],
      from: new Date(start + 10_000),
      to: new Date(start + 180_000),
      periodSeconds: 60,
      stat: 'sum',
    });
    expect(result.periodSeconds).toBe(60);
    const [invocations, errors4xx, errors5xx] = result.series;
    expect(invocations!.timestamps.map((time) => time.getTime())).toEqual([
      start,
      start + 60_000,
      start + 120_000,
    ]);
    expect(invocations!.values).toEqual([...expected.invocations, null]);
    expect(errors4xx!.values).toEqual([...expected.errors4xx, null]);
    expect(errors5xx!.values).toEqual([...expected.errors5xx, null]);
    expect(invocations!.unit).toBe('count');
    // Per-second statistics of a counter: the busiest second had 6 requests, the quietest none.
    const maximum = store.query('deployment/demo', {
      names: ['invocations'],
      from: new Date(start),
      to: new Date(start + 60_000),
      periodSeconds: 60,
      stat: 'maximum',
    });
    expect(maximum.series[0]!.values).toEqual([6]);
    expect(store.aggregate('deployment/demo', 'invocations', 'minimum', startSecond, startSecond + 60)).toBe(
      0,
    );
    expect(
      store.aggregate('deployment/demo', 'invocations', 'sampleCount', startSecond, startSecond + 60),
    ).toBe(60);
  });

  it(`reports latency percentiles within ±${(latencyRelativeErrorBound * 100).toFixed(2)}% of the exact ones`, () => {
    const store = createMetricStore({ retentionSeconds: 600 });
    const latency = store.target('deployment/demo').latency();
    const random = seededRandom(7);
    const latencies: number[] = [];
    for (let second = 0; second < 60; second++) {
      for (let index = 0; index < 200; index++) {
        // A long-tailed mix: mostly 2–10 ms, some 50–400 ms.
        const value = random() < 0.95 ? 2 + random() * 8 : 50 + random() * 350;
        latencies.push(value);
        latency.record(startSecond + second, value);
      }
    }
    const query = (name: string, stat: 'average' | 'minimum' | 'maximum' | 'sampleCount' | 'sum') =>
      store.query('deployment/demo', {
        names: [name],
        from: new Date(start),
        to: new Date(start + 60_000),
        periodSeconds: 60,
        stat,
      }).series[0]!.values[0]!;
    for (const [name, quantile] of [
      ['latencyP50', 0.5],
      ['latencyP90', 0.9],
      ['latencyP99', 0.99],
    ] as const) {
      const exact = exactPercentile(latencies, quantile);
      const reported = query(name, 'average');
      expect(Math.abs(reported - exact) / exact).toBeLessThanOrEqual(latencyRelativeErrorBound + 1e-9);
    }
    expect(query('latencyP99', 'sampleCount')).toBe(12_000);
    expect(query('latencyP99', 'minimum')).toBe(Math.min(...latencies));
    expect(query('latencyP99', 'maximum')).toBe(Math.max(...latencies));
    expect(query('latencyP50', 'sum')).toBeCloseTo(
      latencies.reduce((total, value) => total + value, 0),
      6,
    );
  });

  it('aggregates gauges per sample, returns null for empty buckets and names what it cannot provide', () => {
    const store = createMetricStore({ retentionSeconds: 600 });
    const replicas = store.target('deployment/demo').gauge('replicas')!;
    // Replicas 1 for 30 s, then 3 for 30 s, then nothing for 60 s.
    for (let second = 0; second < 60; second++) replicas.add(startSecond + second, second < 30 ? 1 : 3);
    const result = store.query('deployment/demo', {
      names: ['replicas', 'gpuUtilization', 'drift', 'accuracy'],
      from: new Date(start),
      to: new Date(start + 120_000),
      periodSeconds: 30,
      stat: 'average',
    });
    expect(result.series).toHaveLength(1);
    expect(result.series[0]!.values).toEqual([1, 3, null, null]);
    expect(result.absent?.map((entry) => entry.name)).toEqual(['gpuUtilization', 'drift', 'accuracy']);
    expect(result.absent?.[0]?.reason).toMatch(/no GPU/);
    const percentile = store.aggregate('deployment/demo', 'replicas', 'p90', startSecond, startSecond + 60);
    expect(percentile).toBe(3);
    expect(store.aggregate('deployment/demo', 'replicas', 'p50', startSecond, startSecond + 60)).toBe(1);
    expect(store.aggregate('deployment/demo', 'replicas', 'sampleCount', startSecond, startSecond + 60)).toBe(
      60,
    );
  });

  it('stays the same size over a long simulated uptime and keeps only the retention window', () => {
    const retentionSeconds = 300;
    const store = createMetricStore({ retentionSeconds });
    const target = store.target('deployment/demo');
    const week = 7 * 86_400;
    let sizeAfterFirstMinute = 0;
    for (let second = 0; second < week; second++) {
      const time = startSecond + second;
      target.touchCounters(time);
      target.counter('invocations').add(time, 1);
      target.latency().record(time, 5 + (second % 10));
      target.gauge('replicas')!.add(time, 1 + (second % 4));
      if (second === 60) sizeAfterFirstMinute = store.sizeBytes();
    }
    expect(sizeAfterFirstMinute).toBeGreaterThan(0);
    expect(store.sizeBytes()).toBe(sizeAfterFirstMinute);
    const lastSecond = startSecond + week - 1;
    // The last five minutes are all there; anything older is gone.
    expect(
      store.aggregate(
        'deployment/demo',
        'invocations',
        'sum',
        lastSecond - retentionSeconds + 1,
        lastSecond + 1,
      ),
    ).toBe(retentionSeconds);
    expect(
      store.aggregate(
        'deployment/demo',
        'invocations',
        'sum',
        startSecond,
        lastSecond - retentionSeconds + 1,
      ),
    ).toBeNull();
    expect(
      store.aggregate('deployment/demo', 'latencyP99', 'sampleCount', lastSecond - 9, lastSecond + 1),
    ).toBe(10);
  });

  it('refuses queries with too many buckets', () => {
    const store = createMetricStore({ retentionSeconds: 60 });
    expect(() =>
      store.query('deployment/demo', {
        names: ['invocations'],
        from: new Date(0),
        to: new Date(start),
        periodSeconds: 1,
        stat: 'sum',
      }),
    ).toThrow(/buckets/);
  });
});
