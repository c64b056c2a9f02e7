import type { Statistic } from '@mlscale/core';

const prefix = 'aiplatform.googleapis.com/prediction/online/';

/** How one normalized metric name reads from Cloud Monitoring. */
export interface MetricMapping {
  type: string;
  unit: string;
  /** Counters are summed per bucket whatever the statistic; gauges follow the statistic. */
  kind: 'counter' | 'gauge' | 'distribution';
  /** The fixed percentile aligner, for latency names. */
  aligner?: string;
}

/** Normalized names → Vertex online-prediction metrics; names without one are reported absent, with why. */
export const metricMappings: Record<string, MetricMapping | { absent: string }> = {
  invocations: { type: `${prefix}prediction_count`, unit: 'Count', kind: 'counter' },
  errors5xx: { type: `${prefix}error_count`, unit: 'Count', kind: 'counter' },
  errors4xx: { absent: 'Vertex AI counts failed predictions in one error_count (reported as errors5xx)' },
  latencyP50: {
    type: `${prefix}prediction_latencies`,
    unit: 'Milliseconds',
    kind: 'distribution',
    aligner: 'ALIGN_PERCENTILE_50',
  },
  latencyP90: {
    absent: 'Cloud Monitoring aligns distributions at the 5th, 50th, 95th and 99th percentiles only',
  },
  latencyP99: {
    type: `${prefix}prediction_latencies`,
    unit: 'Milliseconds',
    kind: 'distribution',
    aligner: 'ALIGN_PERCENTILE_99',
  },
  replicas: { type: `${prefix}replicas`, unit: 'Count', kind: 'gauge' },
  cpuUtilization: { type: `${prefix}cpu/utilization`, unit: 'Percent', kind: 'gauge' },
  gpuUtilization: { type: `${prefix}accelerator/duty_cycle`, unit: 'Percent', kind: 'gauge' },
  memoryUtilization: { absent: 'Vertex AI reports memory in bytes used, not as a utilization' },
  queueDepth: { absent: 'Vertex AI does not report a request queue depth' },
  drift: { absent: 'drift needs Vertex AI Model Monitoring, which mlscale does not configure' },
};

const gaugeAligners: Record<Statistic, string | undefined> = {
  average: 'ALIGN_MEAN',
  sum: 'ALIGN_SUM',
  minimum: 'ALIGN_MIN',
  maximum: 'ALIGN_MAX',
  sampleCount: 'ALIGN_COUNT',
  p50: 'ALIGN_PERCENTILE_50',
  p90: undefined,
  p99: 'ALIGN_PERCENTILE_99',
};

/** The per-series aligner and cross-series reducer for a mapping and statistic, or why there is none. */
export function aggregationFor(
  mapping: MetricMapping,
  stat: Statistic,
): { aligner: string; reducer: string } | { absent: string } {
  if (mapping.kind === 'counter') return { aligner: 'ALIGN_SUM', reducer: 'REDUCE_SUM' };
  if (mapping.kind === 'distribution') return { aligner: mapping.aligner!, reducer: 'REDUCE_MAX' };
  const aligner = gaugeAligners[stat];
  if (!aligner) return { absent: `Cloud Monitoring has no ${stat} aligner` };
  return { aligner, reducer: mapping.type.endsWith('/replicas') ? 'REDUCE_SUM' : 'REDUCE_MEAN' };
}
