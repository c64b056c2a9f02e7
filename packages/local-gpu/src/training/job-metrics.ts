import { readFile } from 'node:fs/promises';
import {
  type MetricDefinition,
  type MetricQuery,
  type MetricQueryResult,
  MlscaleError,
  type Statistic,
} from '@mlscale/core';
import { parseLogLine } from './job-log.js';

/** One value a metric definition found in a log line. */
export interface MetricPoint {
  name: string;
  time: Date;
  value: number;
}

/** Compiled metric definitions: SageMaker's MetricDefinitions, the first capture group is the value. */
export interface MetricExtractor {
  extract(message: string, time: Date): MetricPoint[];
}

export function metricExtractor(definitions: readonly MetricDefinition[]): MetricExtractor {
  const compiled = definitions.map((definition) => ({
    name: definition.name,
    regex: new RegExp(definition.regex),
  }));
  return {
    extract(message, time) {
      const points: MetricPoint[] = [];
      for (const { name, regex } of compiled) {
        const match = regex.exec(message);
        const value = match?.[1] === undefined ? Number.NaN : Number(match[1]);
        if (Number.isFinite(value)) points.push({ name, time, value });
      }
      return points;
    },
  };
}

/** Every metric point in a job's log file, in time order. */
export async function readMetricPoints(
  logFile: string,
  definitions: readonly MetricDefinition[],
): Promise<MetricPoint[]> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const extractor = metricExtractor(definitions);
  const points: MetricPoint[] = [];
  for (const line of text.split('\n')) {
    const entry = parseLogLine(line);
    if (entry) points.push(...extractor.extract(entry.message, entry.time));
  }
  return points;
}

const maximumBuckets = 10_000;

/**
 * Aligned series over [from, to) in buckets of `periodSeconds`, one per requested name; names the job
 * has no metric definition for are reported absent.
 */
export function bucketMetricPoints(
  points: readonly MetricPoint[],
  query: MetricQuery,
  definedNames: readonly string[],
  provider: string,
  now = new Date(),
): MetricQueryResult {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - 3_600_000);
  const periodMs = query.periodSeconds * 1000;
  const bucketCount = Math.ceil((to.getTime() - from.getTime()) / periodMs);
  if (bucketCount > maximumBuckets) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Metric query asks for ${bucketCount} buckets; expected at most ${maximumBuckets}. Raise periodSeconds or narrow from/to.`,
      issues: [{ path: 'periodSeconds', message: `expected at most ${maximumBuckets} buckets` }],
    });
  }
  const timestamps = Array.from(
    { length: bucketCount },
    (_, index) => new Date(from.getTime() + index * periodMs),
  );
  const result: MetricQueryResult = { periodSeconds: query.periodSeconds, series: [] };
  const absent: { name: string; reason: string }[] = [];
  for (const name of query.names) {
    if (!definedNames.includes(name)) {
      absent.push({ name, reason: 'the job has no metric definition with this name' });
      continue;
    }
    const buckets: number[][] = timestamps.map(() => []);
    for (const point of points) {
      if (point.name !== name || point.time < from || point.time >= to) continue;
      buckets[Math.floor((point.time.getTime() - from.getTime()) / periodMs)]?.push(point.value);
    }
    result.series.push({
      name,
      stat: query.stat,
      unit: 'None',
      timestamps,
      values: buckets.map((values) => (values.length === 0 ? null : statistic(values, query.stat))),
    });
  }
  if (absent.length > 0) result.absent = absent;
  return result;
}

/** One statistic of a non-empty list; percentiles by nearest rank. */
export function statistic(values: readonly number[], stat: Statistic): number {
  switch (stat) {
    case 'sum':
      return values.reduce((total, value) => total + value, 0);
    case 'average':
      return values.reduce((total, value) => total + value, 0) / values.length;
    case 'minimum':
      return Math.min(...values);
    case 'maximum':
      return Math.max(...values);
    case 'sampleCount':
      return values.length;
    default: {
      const fraction = Number(stat.slice(1)) / 100;
      const sorted = [...values].sort((left, right) => left - right);
      return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
    }
  }
}
