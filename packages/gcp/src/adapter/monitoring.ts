import type { protos } from '@google-cloud/monitoring';
import {
  type AlertRule,
  type AlertStatus,
  type MetricQuery,
  type MetricQueryResult,
  type MetricSeries,
  MlscaleError,
  type MonitoringOperationsV1,
} from '@mlscale/core';
import { callVertex, collect, listAll, singleAttempt, singlePage } from './calls.js';
import { type AdapterContext, clientsOf, toDate } from './context.js';
import { getEndpoint } from './endpoint-calls.js';
import { invalidSpec, provider } from './errors.js';
import { createLogReader } from './log-reader.js';
import { aggregationFor, type MetricMapping, metricMappings } from './metric-names.js';
import { endpointName, labelKeys, resourceId } from './names.js';

type IAlertPolicy = protos.google.monitoring.v3.IAlertPolicy;

const comparisons: Record<AlertRule['comparator'], string> = {
  '>': 'COMPARISON_GT',
  '>=': 'COMPARISON_GE',
  '<': 'COMPARISON_LT',
  '<=': 'COMPARISON_LE',
};

/**
 * Metrics from Cloud Monitoring; alert rules stored as Cloud Monitoring alert policies (so Google
 * evaluates and notifies), with the state mlscale reports computed here from the same time series.
 */
export function createMonitoringOperations(context: AdapterContext): MonitoringOperationsV1 {
  const { settings } = context;
  const logs = createLogReader(context);

  async function endpointId(
    target: MetricQuery['target'],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (!('deployment' in target)) return undefined;
    const endpoint = await getEndpoint(context, endpointName(settings, target.deployment), signal);
    if (!endpoint?.name) {
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `No deployment named '${target.deployment}' on Vertex AI.`,
      });
    }
    return resourceId(endpoint.name);
  }

  async function readSeries(
    mapping: MetricMapping,
    aggregation: { aligner: string; reducer: string },
    endpoint: string,
    name: string,
    stat: string,
    from: Date,
    to: Date,
    periodSeconds: number,
    signal?: AbortSignal,
  ): Promise<MetricSeries> {
    const clients = await clientsOf(context);
    const series = await collect(
      listAll<protos.google.monitoring.v3.ITimeSeries>(
        'Cloud Monitoring ListTimeSeries',
        signal,
        (pageToken) =>
          clients.metrics.listTimeSeries(
            {
              name: `projects/${settings.project}`,
              filter: `metric.type = "${mapping.type}" AND resource.labels.endpoint_id = "${endpoint}"`,
              interval: { startTime: seconds(from), endTime: seconds(to) },
              aggregation: {
                alignmentPeriod: { seconds: periodSeconds },
                perSeriesAligner: aggregation.aligner as never,
                crossSeriesReducer: aggregation.reducer as never,
              },
              view: 'FULL' as never,
              ...(pageToken ? { pageToken } : {}),
            },
            singlePage,
          ),
      ),
    );
    const timestamps: Date[] = [];
    for (let time = from.getTime(); time < to.getTime(); time += periodSeconds * 1000)
      timestamps.push(new Date(time));
    const values: (number | null)[] = timestamps.map(() => null);
    for (const item of series) {
      for (const point of item.points ?? []) {
        const start = toDate(point.interval?.startTime) ?? toDate(point.interval?.endTime);
        if (!start) continue;
        const index = Math.floor((start.getTime() - from.getTime()) / (periodSeconds * 1000));
        if (index < 0 || index >= values.length) continue;
        const value = Number(point.value?.doubleValue ?? point.value?.int64Value ?? 0);
        values[index] = (values[index] ?? 0) + value;
      }
    }
    return { name, stat, unit: mapping.unit, timestamps, values };
  }

  async function metrics(query: MetricQuery, signal?: AbortSignal): Promise<MetricQueryResult> {
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 3_600_000);
    const result: MetricQueryResult = { periodSeconds: query.periodSeconds, series: [], absent: [] };
    const endpoint = await endpointId(query.target, signal);
    for (const name of query.names) {
      const mapping = metricMappings[name];
      if (!endpoint) {
        result.absent!.push({
          name,
          reason: 'Vertex AI custom jobs report no per-job metrics mlscale maps; see the job logs',
        });
        continue;
      }
      if (!mapping) {
        result.absent!.push({ name, reason: 'not a Vertex AI online-prediction metric' });
        continue;
      }
      if ('absent' in mapping) {
        result.absent!.push({ name, reason: mapping.absent });
        continue;
      }
      const aggregation = aggregationFor(mapping, query.stat);
      if ('absent' in aggregation) {
        result.absent!.push({ name, reason: aggregation.absent });
        continue;
      }
      result.series.push(
        await readSeries(
          mapping,
          aggregation,
          endpoint,
          name,
          query.stat,
          from,
          to,
          query.periodSeconds,
          signal,
        ),
      );
    }
    if (result.absent!.length === 0) delete result.absent;
    return result;
  }

  function policyFor(rule: AlertRule): IAlertPolicy {
    const mapping = metricMappings[rule.metric];
    if (!mapping || 'absent' in mapping) {
      throw invalidSpec(
        'metric',
        `Vertex AI cannot alert on ${rule.metric}: ${mapping && 'absent' in mapping ? mapping.absent : 'not an online-prediction metric'}`,
      );
    }
    if (!('deployment' in rule.target))
      throw invalidSpec('target', 'Vertex AI alerts watch deployments, not training jobs');
    const aggregation = aggregationFor(mapping, rule.stat);
    if ('absent' in aggregation) throw invalidSpec('stat', aggregation.absent);
    return {
      displayName: `mlscale ${rule.name}`,
      userLabels: {
        [labelKeys.managed]: 'true',
        [labelKeys.alert]: rule.name,
        [labelKeys.deployment]: rule.target.deployment,
      },
      combiner: 'OR' as never,
      documentation: { content: JSON.stringify(rule), mimeType: 'text/markdown' },
      conditions: [
        {
          displayName: `${rule.metric} ${rule.comparator} ${rule.threshold}`,
          conditionThreshold: {
            filter: `metric.type = "${mapping.type}" AND resource.type = "aiplatform.googleapis.com/Endpoint" AND metadata.user_labels."${labelKeys.deployment}" = "${rule.target.deployment}"`,
            comparison: comparisons[rule.comparator] as never,
            thresholdValue: rule.threshold,
            duration: { seconds: rule.forSeconds },
            aggregations: [
              {
                alignmentPeriod: { seconds: rule.periodSeconds },
                perSeriesAligner: aggregation.aligner as never,
                crossSeriesReducer: aggregation.reducer as never,
              },
            ],
          },
        },
      ],
    };
  }

  async function listPolicies(signal?: AbortSignal): Promise<IAlertPolicy[]> {
    const clients = await clientsOf(context);
    const policies = await collect(
      listAll<IAlertPolicy>('Cloud Monitoring ListAlertPolicies', signal, (pageToken) =>
        clients.alertPolicies.listAlertPolicies(
          {
            name: `projects/${settings.project}`,
            filter: `user_labels.${labelKeys.managed}="true"`,
            ...(pageToken ? { pageToken } : {}),
          },
          singlePage,
        ),
      ),
    );
    return policies.filter((policy) => policy.userLabels?.[labelKeys.alert]);
  }

  /** The rule's state now, from its metric over the last `forSeconds` (at least one period). */
  async function evaluate(rule: AlertRule, signal?: AbortSignal): Promise<AlertStatus> {
    const to = new Date();
    const windowSeconds = Math.max(rule.forSeconds, rule.periodSeconds);
    const from = new Date(to.getTime() - windowSeconds * 1000 - rule.periodSeconds * 1000);
    let values: (number | null)[] = [];
    try {
      const result = await metrics(
        {
          target: rule.target,
          names: [rule.metric],
          from,
          to,
          periodSeconds: rule.periodSeconds,
          stat: rule.stat,
        },
        signal,
      );
      values = result.series[0]?.values ?? [];
    } catch (error) {
      if (!MlscaleError.hasCode(error, 'NotFound')) throw error;
    }
    const present = values.filter((value): value is number => value !== null);
    const breaches = (value: number) =>
      rule.comparator === '>'
        ? value > rule.threshold
        : rule.comparator === '>='
          ? value >= rule.threshold
          : rule.comparator === '<'
            ? value < rule.threshold
            : value <= rule.threshold;
    const lastValue = present.at(-1) ?? null;
    const needed = Math.max(1, Math.ceil(rule.forSeconds / rule.periodSeconds));
    const recent = present.slice(-needed);
    const state =
      lastValue === null || !breaches(lastValue)
        ? 'ok'
        : recent.length >= needed && recent.every(breaches)
          ? 'firing'
          : 'pending';
    return { rule, state, since: to, lastValue };
  }

  return {
    doMetrics: (query, options) => metrics(query, options.signal),

    doLogs: (target, query, options) => logs.read(target, query, options.signal),

    async doPutAlert(rule, options) {
      const policy = policyFor(rule);
      const clients = await clientsOf(context);
      const existing = (await listPolicies(options.signal)).find(
        (candidate) => candidate.userLabels?.[labelKeys.alert] === rule.name,
      );
      await callVertex(
        existing ? 'Cloud Monitoring UpdateAlertPolicy' : 'Cloud Monitoring CreateAlertPolicy',
        options.signal,
        () =>
          existing
            ? clients.alertPolicies.updateAlertPolicy(
                { alertPolicy: { ...policy, name: existing.name } },
                singleAttempt,
              )
            : clients.alertPolicies.createAlertPolicy(
                { name: `projects/${settings.project}`, alertPolicy: policy },
                singleAttempt,
              ),
      );
      return evaluate(rule, options.signal);
    },

    async doListAlerts(options) {
      const statuses: AlertStatus[] = [];
      for (const policy of await listPolicies(options.signal)) {
        const content = policy.documentation?.content;
        if (!content) continue;
        try {
          statuses.push(await evaluate(JSON.parse(content) as AlertRule, options.signal));
        } catch (error) {
          if (MlscaleError.isInstance(error)) throw error;
        }
      }
      return statuses;
    },

    async doDeleteAlert(name, options) {
      const policy = (await listPolicies(options.signal)).find(
        (candidate) => candidate.userLabels?.[labelKeys.alert] === name,
      );
      if (!policy?.name) return false;
      const clients = await clientsOf(context);
      await callVertex('Cloud Monitoring DeleteAlertPolicy', options.signal, () =>
        clients.alertPolicies.deleteAlertPolicy({ name: policy.name! }, singleAttempt),
      );
      return true;
    },
  };
}

function seconds(date: Date): { seconds: number; nanos: number } {
  return { seconds: Math.floor(date.getTime() / 1000), nanos: (date.getTime() % 1000) * 1_000_000 };
}
