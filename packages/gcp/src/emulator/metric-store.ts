import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp, toMilliseconds } from './clock.js';
import { type EmulatorContext, unaryHandlers } from './context.js';
import { parseFilter } from './filter.js';
import { statusError } from './grpc-status.js';

/** One raw measurement. */
export interface MetricSample {
  /** `aiplatform.googleapis.com/prediction/online/prediction_count`, ... */
  type: string;
  /** Monitored-resource labels (`endpoint_id`, `resource_container`, `location`). */
  resourceLabels: Record<string, string>;
  /** Metric labels (`deployed_model_id`, `response_code`). */
  metricLabels: Record<string, string>;
  time: Date;
  value: number;
}

/** Gauges hold their last value between samples (a replica count does not vanish between changes). */
const gaugeTypes = new Set([
  'aiplatform.googleapis.com/prediction/online/replicas',
  'aiplatform.googleapis.com/prediction/online/target_replicas',
]);

const percentileAligners: Record<string, number> = {
  ALIGN_PERCENTILE_99: 0.99,
  ALIGN_PERCENTILE_95: 0.95,
  ALIGN_PERCENTILE_50: 0.5,
  ALIGN_PERCENTILE_05: 0.05,
};

/** Cloud Monitoring's time series for what the emulator observed, served as `MetricService`. */
export interface MetricStore {
  record(sample: MetricSample): void;
  service(): UntypedServiceImplementation;
}

export function createMetricStore(context: () => EmulatorContext): MetricStore {
  const samples: MetricSample[] = [];

  function listTimeSeries(request: Record<string, unknown>) {
    const clauses = parseFilter(request.filter as string | undefined);
    if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
    const typeClause = clauses.find((clause) => clause.field === 'metric.type');
    if (!typeClause?.value) throw statusError('INVALID_ARGUMENT', 'The filter must name a metric.type.');
    const interval = (request.interval ?? {}) as Record<string, never>;
    const end = interval.endTime ? toMilliseconds(interval.endTime) : Date.now();
    const start = interval.startTime ? toMilliseconds(interval.startTime) : end;
    if (start > end) throw statusError('INVALID_ARGUMENT', 'The interval start is after its end.');
    const aggregation = (request.aggregation ?? {}) as {
      alignmentPeriod?: { seconds?: string };
      perSeriesAligner?: string;
      crossSeriesReducer?: string;
    };
    const periodMs = toMilliseconds(aggregation.alignmentPeriod) || 60_000;
    const aligner = aggregation.perSeriesAligner ?? 'ALIGN_NONE';
    const reduce = aggregation.crossSeriesReducer && aggregation.crossSeriesReducer !== 'REDUCE_NONE';
    const gauge = gaugeTypes.has(typeClause.value);

    const matching = samples.filter((sample) =>
      clauses.every((clause) => {
        if (clause.field === 'metric.type') return sample.type === clause.value;
        if (clause.field.startsWith('resource.labels.')) {
          return sample.resourceLabels[clause.field.slice('resource.labels.'.length)] === clause.value;
        }
        if (clause.field.startsWith('metric.labels.')) {
          return sample.metricLabels[clause.field.slice('metric.labels.'.length)] === clause.value;
        }
        if (clause.field === 'resource.type') return clause.value === 'aiplatform.googleapis.com/Endpoint';
        return false;
      }),
    );
    // One series per distinct label set, or one for all when a cross-series reducer merges them.
    const groups = new Map<string, MetricSample[]>();
    for (const sample of matching) {
      const key = reduce ? '*' : JSON.stringify([sample.resourceLabels, sample.metricLabels]);
      groups.set(key, [...(groups.get(key) ?? []), sample]);
    }
    const timeSeries = [...groups.values()].map((group) => {
      const first = group[0]!;
      const points: Record<string, unknown>[] = [];
      for (let bucketStart = start; bucketStart < end; bucketStart += periodMs) {
        const bucketEnd = Math.min(end, bucketStart + periodMs);
        let values = group
          .filter((sample) => sample.time.getTime() >= bucketStart && sample.time.getTime() < bucketEnd)
          .map((sample) => sample.value);
        if (gauge && values.length === 0) {
          const before = group.filter((sample) => sample.time.getTime() < bucketStart).at(-1);
          if (before) values = [before.value];
        }
        if (values.length === 0) continue;
        points.push({
          interval: { startTime: timestamp(new Date(bucketStart)), endTime: timestamp(new Date(bucketEnd)) },
          value: { doubleValue: align(aligner, values, periodMs) },
        });
      }
      return {
        metric: { type: first.type, labels: reduce ? {} : first.metricLabels },
        resource: {
          type: 'aiplatform.googleapis.com/Endpoint',
          labels: reduce ? {} : first.resourceLabels,
        },
        metricKind: gauge ? 'GAUGE' : 'DELTA',
        valueType: 'DOUBLE',
        // Cloud Monitoring lists the newest point first.
        points: points.reverse(),
      };
    });
    return { timeSeries: timeSeries.filter((series) => series.points.length > 0) };
  }

  return {
    record(sample) {
      samples.push(sample);
    },
    service() {
      const ctx = context();
      return unaryHandlers(ctx, 'MetricService', {
        ListTimeSeries: listTimeSeries,
        CreateTimeSeries(request) {
          const series = (request.timeSeries ?? []) as {
            metric?: { type?: string; labels?: Record<string, string> };
            resource?: { labels?: Record<string, string> };
            points?: {
              interval?: { endTime?: never };
              value?: { doubleValue?: number; int64Value?: string };
            }[];
          }[];
          for (const item of series) {
            if (!item.metric?.type)
              throw statusError('INVALID_ARGUMENT', 'Each time series needs metric.type.');
            for (const point of item.points ?? []) {
              samples.push({
                type: item.metric.type,
                resourceLabels: item.resource?.labels ?? {},
                metricLabels: item.metric.labels ?? {},
                time: new Date(toMilliseconds(point.interval?.endTime) || Date.now()),
                value: Number(point.value?.doubleValue ?? point.value?.int64Value ?? 0),
              });
            }
          }
          return {};
        },
      });
    },
  };
}

function align(aligner: string, values: number[], periodMs: number): number {
  const sum = values.reduce((total, value) => total + value, 0);
  switch (aligner) {
    case 'ALIGN_SUM':
    case 'ALIGN_DELTA':
      return sum;
    case 'ALIGN_RATE':
      return sum / (periodMs / 1000);
    case 'ALIGN_COUNT':
      return values.length;
    case 'ALIGN_MAX':
      return Math.max(...values);
    case 'ALIGN_MIN':
      return Math.min(...values);
    case 'ALIGN_NONE':
    case 'ALIGN_NEXT_OLDER':
      return values.at(-1)!;
    default: {
      const quantile = percentileAligners[aligner];
      if (quantile !== undefined) {
        const sorted = [...values].sort((a, b) => a - b);
        return sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]!;
      }
      return sum / values.length;
    }
  }
}
