import type { NormalizedMetricName } from '@mlscale/core';

/**
 * How a metric is stored and what its per-second value means.
 * - `counter`: events per second (a second the target was live with no event counts as 0).
 * - `gauge`: sampled values; a second's value is the average of its samples.
 * - `latency`: the named percentile of the requests' latencies, from per-second histograms.
 */
export type MetricKind = 'counter' | 'gauge' | 'latency';

/** The request counters the recorder feeds. */
export const counterNames = ['invocations', 'errors4xx', 'errors5xx'] as const;
export type CounterName = (typeof counterNames)[number];

/** The latency percentiles, and the quantile each stands for. */
export const latencyQuantiles: Readonly<Record<string, number>> = {
  latencyP50: 0.5,
  latencyP90: 0.9,
  latencyP99: 0.99,
};

const units: Partial<Record<NormalizedMetricName, string>> = {
  invocations: 'count',
  errors4xx: 'count',
  errors5xx: 'count',
  latencyP50: 'milliseconds',
  latencyP90: 'milliseconds',
  latencyP99: 'milliseconds',
  replicas: 'count',
  queueDepth: 'count',
  cpuUtilization: 'percent',
  memoryUtilization: 'percent',
  gpuUtilization: 'percent',
  drift: 'psi',
};

/** The kind of a metric name. */
export function metricKind(name: string): MetricKind {
  if ((counterNames as readonly string[]).includes(name)) return 'counter';
  if (name in latencyQuantiles) return 'latency';
  return 'gauge';
}

/** The unit a metric is reported in (`none` for job metrics, whose unit mlscale does not know). */
export function metricUnit(name: string): string {
  return units[name as NormalizedMetricName] ?? 'none';
}
