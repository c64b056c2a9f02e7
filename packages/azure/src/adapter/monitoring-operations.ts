import {
  type AlertRule,
  type AlertStatus,
  type CallOptionsV1,
  type LogEntry,
  type MetricQuery,
  type MetricQueryResult,
  type MetricSeries,
  MlscaleError,
  type MonitoringOperationsV1,
  sleep,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { primaryDeployment, readEndpoint } from './deployment-observation.js';
import { provider } from './to-mlscale-error.js';

/** Core's metric names → Azure Monitor metrics of managed online endpoints. */
const metricMap: Record<
  string,
  { metricName: string; on: 'endpoint' | 'deployment'; statusClass?: string; fixedStat?: boolean }
> = {
  invocations: { metricName: 'RequestsPerMinute', on: 'endpoint' },
  errors4xx: { metricName: 'RequestsPerMinute', on: 'endpoint', statusClass: '4xx' },
  errors5xx: { metricName: 'RequestsPerMinute', on: 'endpoint', statusClass: '5xx' },
  latencyP50: { metricName: 'RequestLatency_P50', on: 'endpoint', fixedStat: true },
  latencyP90: { metricName: 'RequestLatency_P90', on: 'endpoint', fixedStat: true },
  latencyP99: { metricName: 'RequestLatency_P99', on: 'endpoint', fixedStat: true },
  replicas: { metricName: 'DeploymentCapacity', on: 'deployment' },
  cpuUtilization: { metricName: 'CpuUtilizationPercentage', on: 'deployment' },
  memoryUtilization: { metricName: 'CpuMemoryUtilizationPercentage', on: 'deployment' },
  gpuUtilization: { metricName: 'GpuUtilizationPercentage', on: 'deployment' },
};

const aggregations: Record<string, 'Average' | 'Total' | 'Minimum' | 'Maximum' | 'Count'> = {
  average: 'Average',
  sum: 'Total',
  minimum: 'Minimum',
  maximum: 'Maximum',
  sampleCount: 'Count',
};

/** Azure Monitor's allowed grains, in seconds. */
const grains = [
  [60, 'PT1M'],
  [300, 'PT5M'],
  [900, 'PT15M'],
  [1800, 'PT30M'],
  [3600, 'PT1H'],
  [21_600, 'PT6H'],
  [43_200, 'PT12H'],
  [86_400, 'P1D'],
] as const;

/** The smallest grain at least `periodSeconds`. */
function grainFor(periodSeconds: number): { seconds: number; interval: string } {
  const found = grains.find(([seconds]) => seconds >= periodSeconds) ?? grains[grains.length - 1];
  return { seconds: found?.[0] ?? 86_400, interval: found?.[1] ?? 'P1D' };
}

const operators: Record<AlertRule['comparator'], (value: number, threshold: number) => boolean> = {
  '>': (value, threshold) => value > threshold,
  '>=': (value, threshold) => value >= threshold,
  '<': (value, threshold) => value < threshold,
  '<=': (value, threshold) => value <= threshold,
};

/**
 * The monitoring group: Azure Monitor metrics, deployment logs through `getLogs`, and alert rules held
 * and evaluated by this client over those metrics (not Azure Monitor alert resources).
 */
export function createMonitoringOperations(context: AdapterContext): MonitoringOperationsV1 {
  const { settings } = context;
  const alerts = new Map<
    string,
    { rule: AlertRule; state: AlertStatus['state']; since: Date; lastValue?: number | null }
  >();

  const doMetrics = async (query: MetricQuery, options: CallOptionsV1): Promise<MetricQueryResult> => {
    const { signal } = options;
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 60 * 60_000);
    const grain = grainFor(query.periodSeconds);
    const absent: { name: string; reason: string }[] = [];
    if ('job' in query.target) {
      return {
        periodSeconds: grain.seconds,
        series: [],
        absent: query.names.map((name) => ({
          name,
          reason: 'Azure ML job metrics live in the workspace MLflow tracking store, not Azure Monitor',
        })),
      };
    }
    const snapshot = await readEndpoint(context, query.target.deployment, signal);
    if (!snapshot) {
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `No deployment named '${query.target.deployment}' on the azure backend.`,
      });
    }
    const deployment = primaryDeployment(snapshot);
    const series: MetricSeries[] = [];
    const start = new Date(Math.floor(from.getTime() / (grain.seconds * 1000)) * grain.seconds * 1000);
    const timestamps: Date[] = [];
    for (let time = start.getTime(); time < to.getTime(); time += grain.seconds * 1000)
      timestamps.push(new Date(time));
    for (const name of query.names) {
      const mapped = metricMap[name];
      if (!mapped) {
        absent.push({
          name,
          reason: `Azure Monitor has no metric for '${name}' on managed online endpoints`,
        });
        continue;
      }
      const aggregation = mapped.fixedStat ? 'Average' : aggregations[query.stat];
      if (!aggregation) {
        absent.push({
          name,
          reason: `statistic '${query.stat}' is not an Azure Monitor aggregation; use the latencyP* metrics`,
        });
        continue;
      }
      const resourceId = mapped.on === 'endpoint' ? snapshot.endpoint.id : deployment?.id;
      if (!resourceId) {
        absent.push({ name, reason: 'the endpoint has no deployment yet' });
        continue;
      }
      const filters = mapped.statusClass ? [`statusCodeClass eq '${mapped.statusClass}'`] : [];
      const response = await context.call(`Reading metric ${mapped.metricName}`, (clients) =>
        clients.monitor.metrics.list(resourceId.replace(/^\//, ''), {
          metricnames: mapped.metricName,
          aggregation,
          interval: grain.interval,
          timespan: `${start.toISOString()}/${to.toISOString()}`,
          ...(filters.length > 0 ? { filter: filters.join(' and ') } : {}),
          abortSignal: signal,
        }),
      );
      const points = new Map<number, number>();
      for (const point of response.value
        .flatMap((metric) => metric.timeseries ?? [])
        .flatMap((item) => item.data ?? [])) {
        const value =
          aggregation === 'Total'
            ? point.total
            : aggregation === 'Minimum'
              ? point.minimum
              : aggregation === 'Maximum'
                ? point.maximum
                : aggregation === 'Count'
                  ? point.count
                  : point.average;
        if (value !== undefined && value !== null) points.set(new Date(point.timeStamp).getTime(), value);
      }
      series.push({
        name,
        stat: mapped.fixedStat ? name.replace('latency', '').toLowerCase() : query.stat,
        unit: response.value[0]?.unit ?? 'Count',
        timestamps,
        values: timestamps.map((time) => points.get(time.getTime()) ?? null),
      });
    }
    return { periodSeconds: grain.seconds, series, ...(absent.length > 0 ? { absent } : {}) };
  };

  async function* doLogs(
    target: Parameters<MonitoringOperationsV1['doLogs']>[0],
    query: Parameters<MonitoringOperationsV1['doLogs']>[1],
    options: CallOptionsV1,
  ): AsyncIterable<LogEntry> {
    if ('job' in target) {
      throw new MlscaleError({
        code: 'Unsupported',
        provider,
        message: `Job logs are not in the Azure ML control plane (ARM); read job '${target.job}' logs in Azure ML studio or with \`az ml job stream\`.`,
      });
    }
    const { signal } = options;
    const seen = new Set<string>();
    let emitted = 0;
    for (;;) {
      let entries: LogEntry[];
      try {
        entries = await readNewLogLines(target.deployment, seen, signal);
      } catch (error) {
        // Following ends quietly when the caller aborts.
        if (query.follow && signal?.aborted) return;
        throw error;
      }
      for (const entry of entries) {
        if (query.since && entry.time < query.since) continue;
        if (query.filter && !entry.message.includes(query.filter)) continue;
        yield entry;
        emitted += 1;
        if (!query.follow && query.limit !== undefined && emitted >= query.limit) return;
      }
      if (!query.follow) return;
      try {
        await sleep(Math.max(settings.pollIntervalMs, 1000), signal);
      } catch {
        return;
      }
    }
  }

  /** One round of getLogs over every deployment's containers: the lines not `seen` before, oldest first. */
  async function readNewLogLines(
    name: string,
    seen: Set<string>,
    signal: AbortSignal | undefined,
  ): Promise<LogEntry[]> {
    const snapshot = await readEndpoint(context, name, signal);
    if (!snapshot) {
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `No deployment named '${name}' on the azure backend.`,
      });
    }
    const entries: LogEntry[] = [];
    for (const deployment of snapshot.deployments) {
      for (const containerType of ['StorageInitializer', 'InferenceServer'] as const) {
        const logs = await context.call(
          `Reading ${containerType} logs of '${name}/${deployment.name}'`,
          (clients) =>
            clients.machineLearning.onlineDeployments.getLogs(
              settings.resourceGroup,
              settings.workspace,
              name,
              deployment.name ?? '',
              { containerType, tail: 10_000 },
              { abortSignal: signal },
            ),
        );
        for (const line of (logs.content ?? '').split('\n')) {
          if (line.trim() === '') continue;
          const key = `${deployment.name}/${containerType}/${line}`;
          if (seen.has(key)) continue;
          seen.add(key);
          entries.push(toEntry(line, containerType, deployment.name ?? ''));
        }
      }
    }
    return entries.sort((left, right) => left.time.getTime() - right.time.getTime());
  }

  const evaluate = async (rule: AlertRule, options: CallOptionsV1): Promise<AlertStatus> => {
    const now = new Date();
    const windowSeconds = Math.max(rule.forSeconds, rule.periodSeconds);
    const result = await doMetrics(
      {
        target: rule.target,
        names: [rule.metric],
        from: new Date(now.getTime() - (windowSeconds + rule.periodSeconds) * 1000),
        to: now,
        periodSeconds: rule.periodSeconds,
        stat: rule.stat,
      },
      options,
    );
    const values = result.series[0]?.values.filter((value): value is number => value !== null) ?? [];
    const lastValue = values.at(-1) ?? null;
    const breaching = lastValue !== null && operators[rule.comparator](lastValue, rule.threshold);
    const pointsNeeded = Math.max(1, Math.ceil(rule.forSeconds / result.periodSeconds));
    const held =
      breaching &&
      values.slice(-pointsNeeded).length >= pointsNeeded &&
      values.slice(-pointsNeeded).every((value) => operators[rule.comparator](value, rule.threshold));
    const state: AlertStatus['state'] = held ? 'firing' : breaching ? 'pending' : 'ok';
    const previous = alerts.get(rule.name);
    const since = previous && previous.state === state ? previous.since : now;
    alerts.set(rule.name, { rule, state, since, lastValue });
    return { rule, state, since, lastValue };
  };

  return {
    doMetrics,
    doLogs,
    async doPutAlert(rule, options) {
      return evaluate(rule, options);
    },
    async doListAlerts(options) {
      const statuses: AlertStatus[] = [];
      for (const { rule } of alerts.values()) statuses.push(await evaluate(rule, options));
      return statuses;
    },
    async doDeleteAlert(name) {
      return alerts.delete(name);
    },
  };
}

/** A getLogs line as a LogEntry, using its leading ISO timestamp when there is one. */
function toEntry(line: string, containerType: string, deployment: string): LogEntry {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?)\s+(.*)$/.exec(line);
  const time = match ? new Date(match[1] ?? '') : new Date();
  return {
    time: Number.isNaN(time.getTime()) ? new Date() : time,
    source: containerType === 'InferenceServer' ? 'server' : 'storage-initializer',
    message: match ? (match[2] ?? line) : line,
    fields: { deployment, containerType },
  };
}
