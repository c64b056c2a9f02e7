import { metricQuerySchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { bucketMetricPoints, type MetricPoint, metricExtractor, statistic } from './job-metrics.js';

describe('job metrics', () => {
  it('reads the first capture group of each definition, skipping what is not a number', () => {
    const extractor = metricExtractor([
      { name: 'loss', regex: 'loss=([-0-9.e]+)' },
      { name: 'accuracy', regex: 'accuracy=(\\S+)' },
    ]);
    const time = new Date(0);
    expect(extractor.extract('epoch=1 loss=0.25 accuracy=0.9', time)).toEqual([
      { name: 'loss', time, value: 0.25 },
      { name: 'accuracy', time, value: 0.9 },
    ]);
    expect(extractor.extract('loss=1e-3 accuracy=nan', time)).toEqual([{ name: 'loss', time, value: 0.001 }]);
    expect(extractor.extract('nothing here', time)).toEqual([]);
  });

  it('computes every statistic, percentiles by nearest rank', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(statistic(values, 'sum')).toBe(55);
    expect(statistic(values, 'average')).toBe(5.5);
    expect(statistic(values, 'minimum')).toBe(1);
    expect(statistic(values, 'maximum')).toBe(10);
    expect(statistic(values, 'sampleCount')).toBe(10);
    expect(statistic(values, 'p50')).toBe(5);
    expect(statistic(values, 'p90')).toBe(9);
    expect(statistic(values, 'p99')).toBe(10);
  });

  it('buckets points into aligned series with null for empty buckets', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const at = (seconds: number, value: number): MetricPoint => ({
      name: 'loss',
      time: new Date(from.getTime() + seconds * 1000),
      value,
    });
    const query = metricQuerySchema.parse({
      target: { job: 'some-job' },
      names: ['loss'],
      from,
      to: new Date(from.getTime() + 180_000),
      periodSeconds: 60,
      stat: 'average',
    });
    const result = bucketMetricPoints(
      [at(0, 1), at(59, 3), at(150, 5), at(180, 99)],
      query,
      ['loss'],
      'local',
    );
    expect(result.series[0]?.timestamps.map((time) => time.toISOString())).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:02:00.000Z',
    ]);
    expect(result.series[0]?.values).toEqual([2, null, 5]);
  });

  it('refuses a query that would make too many buckets', () => {
    const query = metricQuerySchema.parse({
      target: { job: 'some-job' },
      names: ['loss'],
      from: new Date(0),
      to: new Date(86_400_000),
      periodSeconds: 1,
    });
    expect(() => bucketMetricPoints([], query, ['loss'], 'local')).toThrow(
      expect.objectContaining({ code: 'InvalidSpec' }),
    );
  });
});
