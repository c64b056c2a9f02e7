import { type MetricQueryResult, type MetricSeries, MlscaleError, type Statistic } from '@mlscale/core';
import { HistogramRing } from './histogram-ring.js';
import { histogramPercentile, latencyBinCount } from './latency-histogram.js';
import { type CounterName, latencyQuantiles, metricKind, metricUnit } from './metric-kinds.js';
import { ScalarRing } from './scalar-ring.js';

/** The most buckets one query may ask for (CloudWatch's GetMetricData limit per series). */
export const maximumBucketsPerQuery = 100_800;
/** The most gauge series one target may hold, so job metric names cannot grow memory without bound. */
export const maximumGaugesPerTarget = 64;

const statQuantiles: Partial<Record<Statistic, number>> = { p50: 0.5, p90: 0.9, p99: 0.99 };

/** The series of one deployment or job: counters, latency histograms and gauges. */
export interface TargetMetrics {
  /** `deployment/<name>` or `job/<name>`. */
  readonly key: string;
  /** A request counter's ring (created on first use). */
  counter(name: CounterName): ScalarRing;
  /** The latency histograms (created on first use). */
  latency(): HistogramRing;
  /** A gauge's ring (created on first use); `undefined` past `maximumGaugesPerTarget` names. */
  gauge(name: string): ScalarRing | undefined;
  /** Marks the counters as observed in `second` (the target was live; no request means 0, not "no data"). */
  touchCounters(second: number): void;
  /** Says why `name` cannot be provided (or, with `undefined`, that it can again). */
  setAbsent(name: string, reason: string | undefined): void;
  /** Names recorded so far with their rings (for persistence). */
  scalarSeries(): IterableIterator<[string, ScalarRing]>;
  /** The latency ring if one was created. */
  latencyIfAny(): HistogramRing | undefined;
}

/** Aligned-bucket queries over per-second rings with fixed memory. */
export interface MetricStore {
  readonly retentionSeconds: number;
  /** The target's series, created when missing. */
  target(key: string): TargetMetrics;
  /** The target's series, or `undefined`. */
  find(key: string): TargetMetrics | undefined;
  /** Forgets a target and its memory. */
  remove(key: string): boolean;
  keys(): string[];
  /** `stat` of `name` over the seconds [fromSecond, toSecond); `null` when there is no data. */
  aggregate(key: string, name: string, stat: Statistic, fromSecond: number, toSecond: number): number | null;
  /** Aligned series over [from, to) in buckets of `periodSeconds`, in core's result shape. */
  query(
    key: string,
    query: { names: readonly string[]; from: Date; to: Date; periodSeconds: number; stat: Statistic },
  ): MetricQueryResult;
  /** Bytes the rings hold (each ring's memory is fixed at creation). */
  sizeBytes(): number;
}

const defaultAbsentReasons: Record<string, string> = {
  drift: 'no input baseline is registered for the served model, so drift is not measured',
  gpuUtilization: 'no GPU in use: the deployment does not run on a GPU',
};

/** Creates a store keeping `retentionSeconds` seconds of one-second resolution per series. */
export function createMetricStore(options: { retentionSeconds: number }): MetricStore {
  const capacity = options.retentionSeconds;
  const targets = new Map<
    string,
    TargetMetrics & {
      absent: Map<string, string>;
      gauges: Map<string, ScalarRing>;
      counters: Map<string, ScalarRing>;
    }
  >();

  function createTarget(key: string) {
    const counters = new Map<string, ScalarRing>();
    const gauges = new Map<string, ScalarRing>();
    const absent = new Map<string, string>();
    let latency: HistogramRing | undefined;
    const counter = (name: CounterName) => {
      let ring = counters.get(name);
      if (!ring) {
        ring = new ScalarRing(capacity);
        counters.set(name, ring);
      }
      return ring;
    };
    return {
      key,
      absent,
      gauges,
      counter,
      latency() {
        latency ??= new HistogramRing(capacity);
        return latency;
      },
      latencyIfAny: () => latency,
      gauge(name: string) {
        let ring = gauges.get(name);
        if (!ring) {
          if (gauges.size >= maximumGaugesPerTarget) return undefined;
          ring = new ScalarRing(capacity);
          gauges.set(name, ring);
        }
        return ring;
      },
      touchCounters(second: number) {
        counter('invocations').touch(second);
        counter('errors4xx').touch(second);
        counter('errors5xx').touch(second);
      },
      setAbsent(name: string, reason: string | undefined) {
        if (reason === undefined) absent.delete(name);
        else absent.set(name, reason);
      },
      *scalarSeries(): IterableIterator<[string, ScalarRing]> {
        yield* counters;
        yield* gauges;
      },
      counters,
    };
  }

  function target(key: string) {
    let found = targets.get(key);
    if (!found) {
      found = createTarget(key);
      targets.set(key, found);
    }
    return found;
  }

  function aggregateScalar(
    ring: ScalarRing,
    kind: 'counter' | 'gauge',
    stat: Statistic,
    fromSecond: number,
    toSecond: number,
  ): number | null {
    const first = Math.max(fromSecond, ring.oldestKeptSecond());
    const last = Math.min(toSecond, ring.newestSecond + 1);
    let seconds = 0;
    let count = 0;
    let sum = 0;
    let minimum = Number.POSITIVE_INFINITY;
    let maximum = Number.NEGATIVE_INFINITY;
    const quantile = statQuantiles[stat];
    const perSecond: number[] | undefined = quantile === undefined ? undefined : [];
    for (let second = first; second < last; second++) {
      if (!ring.has(second)) continue;
      const secondCount = ring.count(second);
      const secondSum = ring.sum(second);
      if (kind === 'counter') {
        seconds += 1;
        sum += secondSum;
        if (secondSum < minimum) minimum = secondSum;
        if (secondSum > maximum) maximum = secondSum;
        perSecond?.push(secondSum);
      } else {
        if (secondCount === 0) continue;
        seconds += 1;
        count += secondCount;
        sum += secondSum;
        minimum = Math.min(minimum, ring.minimum(second));
        maximum = Math.max(maximum, ring.maximum(second));
        perSecond?.push(secondSum / secondCount);
      }
    }
    if (seconds === 0) return null;
    switch (stat) {
      case 'sum':
        return sum;
      case 'average':
        return kind === 'counter' ? sum / seconds : sum / count;
      case 'minimum':
        return minimum;
      case 'maximum':
        return maximum;
      case 'sampleCount':
        return kind === 'counter' ? seconds : count;
      default:
        return nearestRank(perSecond!, quantile!);
    }
  }

  function aggregateLatency(
    ring: HistogramRing,
    name: string,
    stat: Statistic,
    fromSecond: number,
    toSecond: number,
  ): number | null {
    const cells = ring.cells;
    const first = Math.max(fromSecond, cells.oldestKeptSecond());
    const last = Math.min(toSecond, cells.newestSecond + 1);
    let count = 0;
    let sum = 0;
    let minimum = Number.POSITIVE_INFINITY;
    let maximum = Number.NEGATIVE_INFINITY;
    for (let second = first; second < last; second++) {
      const secondCount = cells.count(second);
      if (secondCount === 0) continue;
      count += secondCount;
      sum += cells.sum(second);
      minimum = Math.min(minimum, cells.minimum(second));
      maximum = Math.max(maximum, cells.maximum(second));
    }
    if (count === 0) return null;
    switch (stat) {
      case 'sum':
        return sum;
      case 'minimum':
        return minimum;
      case 'maximum':
        return maximum;
      case 'sampleCount':
        return count;
      default: {
        // `average` (the default) gives the name's own percentile: the p99 of every request in the bucket.
        const quantile = statQuantiles[stat] ?? latencyQuantiles[name] ?? 0.5;
        const bins = new Float64Array(latencyBinCount);
        for (let second = first; second < last; second++) ring.addBinsTo(second, bins);
        const value = histogramPercentile(bins, count, quantile)!;
        return Math.min(maximum, Math.max(minimum, value));
      }
    }
  }

  function aggregate(key: string, name: string, stat: Statistic, fromSecond: number, toSecond: number) {
    const found = targets.get(key);
    if (!found) return null;
    const kind = metricKind(name);
    if (kind === 'latency') {
      const ring = found.latencyIfAny();
      return ring ? aggregateLatency(ring, name, stat, fromSecond, toSecond) : null;
    }
    const ring = kind === 'counter' ? found.counters.get(name) : found.gauges.get(name);
    return ring ? aggregateScalar(ring, kind, stat, fromSecond, toSecond) : null;
  }

  return {
    retentionSeconds: capacity,
    target,
    find: (key) => targets.get(key),
    remove: (key) => targets.delete(key),
    keys: () => [...targets.keys()],
    aggregate,
    query(key, query) {
      const periodMs = query.periodSeconds * 1000;
      const start = Math.floor(query.from.getTime() / periodMs) * periodMs;
      const end = query.to.getTime();
      const bucketCount = Math.max(0, Math.ceil((end - start) / periodMs));
      if (bucketCount > maximumBucketsPerQuery) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'local',
          message: `The metric query asks for ${bucketCount} buckets; at most ${maximumBucketsPerQuery} are allowed. Use a larger periodSeconds or a shorter from–to range.`,
          issues: [{ path: 'periodSeconds', message: `expected at most ${maximumBucketsPerQuery} buckets` }],
        });
      }
      const timestamps: Date[] = [];
      for (let index = 0; index < bucketCount; index++) timestamps.push(new Date(start + index * periodMs));
      const found = targets.get(key);
      const series: MetricSeries[] = [];
      const absent: { name: string; reason: string }[] = [];
      for (const name of query.names) {
        const kind = metricKind(name);
        const hasRing = kind === 'counter' || kind === 'latency' || (found?.gauges.has(name) ?? false);
        const values = timestamps.map((bucket) => {
          const fromSecond = bucket.getTime() / 1000;
          return hasRing
            ? aggregate(key, name, query.stat, fromSecond, fromSecond + query.periodSeconds)
            : null;
        });
        const reason = found?.absent.get(name) ?? (hasRing ? undefined : absentReason(name));
        if (reason !== undefined && values.every((value) => value === null)) {
          absent.push({ name, reason });
          continue;
        }
        series.push({ name, stat: query.stat, unit: metricUnit(name), timestamps, values });
      }
      return { periodSeconds: query.periodSeconds, series, ...(absent.length > 0 ? { absent } : {}) };
    },
    sizeBytes() {
      let total = 0;
      for (const found of targets.values()) {
        for (const [, ring] of found.scalarSeries()) total += ring.sizeBytes;
        total += found.latencyIfAny()?.sizeBytes ?? 0;
      }
      return total;
    },
  };
}

function absentReason(name: string): string | undefined {
  if (name in defaultAbsentReasons) return defaultAbsentReasons[name];
  if (['replicas', 'queueDepth', 'cpuUtilization', 'memoryUtilization'].includes(name)) return undefined;
  return `"${name}" is not recorded for this target`;
}

/** The nearest-rank quantile of `values` (sorts them in place). */
function nearestRank(values: number[], quantile: number): number {
  values.sort((left, right) => left - right);
  const rank = Math.max(1, Math.ceil(quantile * values.length));
  return values[rank - 1]!;
}
