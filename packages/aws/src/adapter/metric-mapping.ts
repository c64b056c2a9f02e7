import type { NormalizedMetricName, Statistic } from '@mlscale/core';

/** Where a metric lives in CloudWatch, for one endpoint variant or training job. */
export interface CloudWatchMetric {
  namespace: string;
  metricName: string;
  dimensions: { Name: string; Value: string }[];
  /** The CloudWatch statistic (`Sum`, `Average`, `p99`, ...). */
  stat: string;
  /** Multiplies CloudWatch's values into mlscale's unit (latency: µs → ms). */
  scale: number;
  unit: string;
  /** How series of several variants combine: counts add up, the rest average. */
  combine: 'sum' | 'average';
}

const statistics: Record<Statistic, string> = {
  average: 'Average',
  sum: 'Sum',
  minimum: 'Minimum',
  maximum: 'Maximum',
  sampleCount: 'SampleCount',
  p50: 'p50',
  p90: 'p90',
  p99: 'p99',
};

/** Why a normalized metric has no SageMaker counterpart. */
export const absentMetrics: Partial<Record<NormalizedMetricName, string>> = {
  replicas: 'SageMaker publishes no instance-count metric; read replicas from the deployment status',
  queueDepth: 'SageMaker real-time endpoints publish no queue depth',
  drift: 'drift comes from SageMaker Model Monitor schedules, which mlscale does not create',
};

/** The CloudWatch metric behind a normalized name, for one endpoint variant; undefined when there is none. */
export function endpointMetric(
  name: string,
  stat: Statistic,
  endpoint: string,
  variant: string,
): CloudWatchMetric | undefined {
  const dimensions = [
    { Name: 'EndpointName', Value: endpoint },
    { Name: 'VariantName', Value: variant },
  ];
  const sageMaker = (
    metricName: string,
    cloudWatchStat: string,
    combine: 'sum' | 'average',
    unit = 'Count',
    scale = 1,
  ) => ({
    namespace: 'AWS/SageMaker',
    metricName,
    dimensions,
    stat: cloudWatchStat,
    scale,
    unit,
    combine,
  });
  const instance = (metricName: string) => ({
    namespace: '/aws/sagemaker/Endpoints',
    metricName,
    dimensions,
    stat: statistics[stat],
    scale: 1,
    unit: 'Percent',
    combine: 'average' as const,
  });
  switch (name) {
    // Invocations is 1 per request: its average says nothing, so an average query sums.
    case 'invocations':
      return sageMaker(
        'Invocations',
        stat === 'average' ? 'Sum' : statistics[stat],
        stat === 'average' || stat === 'sum' ? 'sum' : 'average',
      );
    // Error metrics are 0 or 1 per request: the average is the error rate, the sum the count.
    case 'errors4xx':
      return sageMaker('Invocation4XXErrors', statistics[stat], stat === 'sum' ? 'sum' : 'average');
    case 'errors5xx':
      return sageMaker('Invocation5XXErrors', statistics[stat], stat === 'sum' ? 'sum' : 'average');
    case 'latencyP50':
      return sageMaker('ModelLatency', 'p50', 'average', 'Milliseconds', 0.001);
    case 'latencyP90':
      return sageMaker('ModelLatency', 'p90', 'average', 'Milliseconds', 0.001);
    case 'latencyP99':
      return sageMaker('ModelLatency', 'p99', 'average', 'Milliseconds', 0.001);
    case 'cpuUtilization':
      return instance('CPUUtilization');
    case 'memoryUtilization':
      return instance('MemoryUtilization');
    case 'gpuUtilization':
      return instance('GPUUtilization');
    default:
      return undefined;
  }
}

/** The CloudWatch metric for a training job: its metric definitions, or instance metrics of its first host. */
export function trainingMetric(name: string, stat: Statistic, job: string): CloudWatchMetric {
  const instanceMetrics: Record<string, string> = {
    cpuUtilization: 'CPUUtilization',
    memoryUtilization: 'MemoryUtilization',
    gpuUtilization: 'GPUUtilization',
  };
  const instance = instanceMetrics[name];
  if (instance) {
    return {
      namespace: '/aws/sagemaker/TrainingJobs',
      metricName: instance,
      dimensions: [{ Name: 'Host', Value: `${job}/algo-1` }],
      stat: statistics[stat],
      scale: 1,
      unit: 'Percent',
      combine: 'average',
    };
  }
  return {
    namespace: '/aws/sagemaker/TrainingJobs',
    metricName: name,
    dimensions: [{ Name: 'TrainingJobName', Value: job }],
    stat: statistics[stat],
    scale: 1,
    unit: 'None',
    combine: 'average',
  };
}

/** A normalized comparator as CloudWatch's. */
export const comparisonOperators = {
  '>': 'GreaterThanThreshold',
  '>=': 'GreaterThanOrEqualToThreshold',
  '<': 'LessThanThreshold',
  '<=': 'LessThanOrEqualToThreshold',
} as const;

/** Whether CloudWatch takes the statistic as ExtendedStatistic (percentiles). */
export function isExtendedStatistic(stat: string): boolean {
  return /^p\d/.test(stat);
}
