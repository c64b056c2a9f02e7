import { badArgument } from './arm-error.js';
import type { EmulatorContext } from './emulator-context.js';
import { type DeploymentRecord, type EndpointRecord, key, type ScoringSample } from './state.js';

/** What a metric query is about: an endpoint or one of its deployments. */
export type MetricSubject =
  | { kind: 'endpoint'; endpoint: EndpointRecord }
  | { kind: 'deployment'; endpoint: EndpointRecord; deployment: DeploymentRecord };

/** One bucket of one metric: the aggregations Azure Monitor reports. */
export interface MetricPoint {
  timeStamp: string;
  average?: number;
  total?: number;
  count?: number;
  minimum?: number;
  maximum?: number;
}

interface MetricDefinition {
  unit: string;
  subject: MetricSubject['kind'];
  /** Values observed in one bucket (each sample one value), or undefined for no data. */
  values: (samples: ScoringSample[], subject: MetricSubject, bucketMs: number) => number[] | undefined;
}

const percentile = (values: number[], share: number): number[] => {
  if (values.length === 0) return [];
  const sorted = [...values].sort((left, right) => left - right);
  return [sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0];
};

const capacityOf = (subject: MetricSubject): number =>
  subject.kind === 'deployment' ? (subject.deployment.resource.sku?.capacity ?? 1) : 1;

/**
 * The metrics the emulator reports. Request metrics come from the scoring requests it served; utilization
 * is modelled from them (5% idle plus 4% per request per instance in the bucket, capped at 100), so
 * autoscale rules react to real traffic.
 */
const definitions: Record<string, MetricDefinition> = {
  RequestsPerMinute: {
    unit: 'Count',
    subject: 'endpoint',
    values: (samples, _, bucketMs) => [(samples.length * 60_000) / bucketMs],
  },
  RequestLatency: {
    unit: 'Milliseconds',
    subject: 'endpoint',
    values: (samples) => samples.map((s) => s.latencyMs),
  },
  RequestLatency_P50: {
    unit: 'Milliseconds',
    subject: 'endpoint',
    values: (samples) =>
      percentile(
        samples.map((s) => s.latencyMs),
        0.5,
      ),
  },
  RequestLatency_P90: {
    unit: 'Milliseconds',
    subject: 'endpoint',
    values: (samples) =>
      percentile(
        samples.map((s) => s.latencyMs),
        0.9,
      ),
  },
  RequestLatency_P95: {
    unit: 'Milliseconds',
    subject: 'endpoint',
    values: (samples) =>
      percentile(
        samples.map((s) => s.latencyMs),
        0.95,
      ),
  },
  RequestLatency_P99: {
    unit: 'Milliseconds',
    subject: 'endpoint',
    values: (samples) =>
      percentile(
        samples.map((s) => s.latencyMs),
        0.99,
      ),
  },
  ConnectionsActive: { unit: 'Count', subject: 'endpoint', values: () => [0] },
  DeploymentCapacity: { unit: 'Count', subject: 'deployment', values: (_, subject) => [capacityOf(subject)] },
  CpuUtilizationPercentage: {
    unit: 'Percent',
    subject: 'deployment',
    values: (samples, subject) => [Math.min(100, 5 + (4 * samples.length) / capacityOf(subject))],
  },
  // Reported only for GPU instance types (NC, ND, NV families); CPU instances have no data points.
  GpuUtilizationPercentage: {
    unit: 'Percent',
    subject: 'deployment',
    values: (samples, subject) =>
      subject.kind === 'deployment' &&
      /^Standard_N[CDV]/i.test(String(subject.deployment.resource.properties.instanceType ?? ''))
        ? [Math.min(100, 10 + (6 * samples.length) / capacityOf(subject))]
        : undefined,
  },
  CpuMemoryUtilizationPercentage: {
    unit: 'Percent',
    subject: 'deployment',
    values: (samples, subject) => [Math.min(100, 20 + samples.length / capacityOf(subject))],
  },
};

/** Names this emulator knows, for error messages. */
export const knownMetricNames = Object.keys(definitions);

export function metricUnit(name: string): string {
  return definitions[name]?.unit ?? 'Count';
}

/** Parses `deployment eq 'x' and statusCodeClass eq '5xx'` (the dimension filters Azure Monitor takes). */
export function parseDimensionFilter(filter: string | null): Record<string, string> {
  const result: Record<string, string> = {};
  if (!filter) return result;
  for (const clause of filter.split(/\s+and\s+/i)) {
    const match = /^\s*([A-Za-z]+)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (!match)
      throw badArgument(`$filter: unsupported clause '${clause}'; expected "dimension eq 'value'".`);
    result[(match[1] ?? '').toLowerCase()] = match[2] ?? '';
  }
  return result;
}

/** Aggregated points of one metric, one per bucket of `intervalMs` from `startMs` to `endMs`. */
export function metricPoints(
  context: EmulatorContext,
  name: string,
  subject: MetricSubject,
  startMs: number,
  endMs: number,
  intervalMs: number,
  dimensions: Record<string, string>,
): MetricPoint[] {
  const definition = definitions[name];
  if (!definition || definition.subject !== subject.kind) {
    throw badArgument(
      `Failed to find metric configuration for metric '${name}' on this ${subject.kind}; known: ${knownMetricNames
        .filter((known) => definitions[known]?.subject === subject.kind)
        .join(', ')}.`,
    );
  }
  const endpointId = key(subject.endpoint.resource.id);
  const deploymentName =
    subject.kind === 'deployment'
      ? key(subject.deployment.resource.name)
      : dimensions.deployment?.toLowerCase();
  const statusClass = dimensions.statuscodeclass?.toLowerCase();
  const relevant = context.state.samples.filter(
    (sample) =>
      sample.endpointId === endpointId &&
      (deploymentName === undefined || key(sample.deployment) === deploymentName) &&
      (statusClass === undefined || `${Math.floor(sample.statusCode / 100)}xx` === statusClass),
  );
  const created = Date.parse(
    (subject.kind === 'deployment' ? subject.deployment.resource : subject.endpoint.resource).systemData
      .createdAt ?? '',
  );
  const points: MetricPoint[] = [];
  for (let bucket = startMs; bucket < endMs; bucket += intervalMs) {
    const inBucket = relevant.filter((sample) => sample.time >= bucket && sample.time < bucket + intervalMs);
    const timeStamp = new Date(bucket).toISOString();
    const values =
      bucket + intervalMs <= created ? undefined : definition.values(inBucket, subject, intervalMs);
    if (!values || values.length === 0) {
      points.push({ timeStamp });
      continue;
    }
    const total = values.reduce((sum, value) => sum + value, 0);
    points.push({
      timeStamp,
      average: total / values.length,
      total,
      count: values.length,
      minimum: Math.min(...values),
      maximum: Math.max(...values),
    });
  }
  return points;
}

/** ISO 8601 durations Azure Monitor uses (`PT1M`, `PT5M`, `PT1H`, `P1D`) in milliseconds. */
export function durationMs(duration: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(duration);
  if (!match || duration === 'P' || duration === 'PT')
    throw badArgument(`'${duration}' is not an ISO 8601 duration.`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
}
