import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  type AlertRule,
  type AlertStatus,
  alertRuleSchema,
  type LogEntry,
  type LogQuery,
  logQuerySchema,
  type MetricQueryResult,
  type MetricSeries,
  MlscaleError,
  type MonitoringOperationsV1,
  type MonitoringTarget,
  metricQuerySchema,
  monitoringTargetSchema,
  parseSpec,
  resourceNameSchema,
  sleep,
  terminalTrainingJobStates,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { alarmWindow, metricPeriod } from './cloudwatch-periods.js';
import { describeEndpoint } from './deployment-observation.js';
import {
  absentMetrics,
  type CloudWatchMetric,
  comparisonOperators,
  endpointMetric,
  isExtendedStatistic,
  trainingMetric,
} from './metric-mapping.js';
import { alertAlarmPrefix } from './resource-names.js';
import { trainingState } from './training-operations.js';

const descriptionPrefix = 'mlscale:';

/** CloudWatch's statistic name as mlscale's (`Sum` → `sum`, `SampleCount` → `sampleCount`, `p99` stays). */
function normalizedStatistic(stat: string): string {
  return /^p\d/.test(stat) ? stat : stat.charAt(0).toLowerCase() + stat.slice(1);
}

export function createMonitoringOperations(context: AdapterContext): MonitoringOperationsV1 {
  const { aws, settings } = context;

  async function endpointVariants(name: string, signal?: AbortSignal): Promise<string[]> {
    const describe = await describeEndpoint(context, name, signal);
    if (!describe)
      throw new MlscaleError({
        code: 'NotFound',
        provider: 'aws',
        message: `No SageMaker endpoint named '${name}'.`,
      });
    return (describe.ProductionVariants ?? []).map((variant) => variant.VariantName!).filter(Boolean);
  }

  /** GetMetricData over every page, as aligned series: bucket start → value. */
  async function fetchSeries(
    queries: { id: string; metric: CloudWatchMetric }[],
    startMs: number,
    endMs: number,
    periodSeconds: number,
    signal?: AbortSignal,
  ): Promise<Map<string, Map<number, number>>> {
    const results = new Map<string, Map<number, number>>();
    for (const { id } of queries) results.set(id, new Map());
    // GetMetricData takes at most 500 queries per call.
    for (let offset = 0; offset < queries.length; offset += 500) {
      const batch = queries.slice(offset, offset + 500);
      const metricDataQueries: MetricDataQuery[] = batch.map(({ id, metric }) => ({
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: metric.namespace,
            MetricName: metric.metricName,
            Dimensions: metric.dimensions,
          },
          Period: periodSeconds,
          Stat: metric.stat,
        },
        ReturnData: true,
      }));
      const pages = aws.items(
        'cloudWatch',
        'GetMetricData',
        ({ module, client }, abortSignal) =>
          module.paginateGetMetricData(
            { client, stopOnSameToken: true },
            {
              MetricDataQueries: metricDataQueries,
              StartTime: new Date(startMs),
              EndTime: new Date(endMs),
              ScanBy: 'TimestampAscending',
            },
            { abortSignal },
          ),
        (page) => ({ items: page.MetricDataResults, nextToken: page.NextToken }),
        signal,
      );
      for await (const result of pages) {
        const series = results.get(result.Id ?? '');
        if (!series) continue;
        (result.Timestamps ?? []).forEach((timestamp, index) => {
          const value = result.Values?.[index];
          if (typeof value === 'number') series.set(new Date(timestamp).getTime(), value);
        });
      }
    }
    return results;
  }

  async function alarmMetric(rule: AlertRule, signal?: AbortSignal): Promise<CloudWatchMetric> {
    if ('deployment' in rule.target) {
      const [variant] = await endpointVariants(rule.target.deployment, signal);
      const metric = endpointMetric(rule.metric, rule.stat, rule.target.deployment, variant ?? 'AllTraffic');
      if (!metric) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message: `metric: '${rule.metric}' has no CloudWatch metric on SageMaker${absentMetrics[rule.metric as keyof typeof absentMetrics] ? ` (${absentMetrics[rule.metric as keyof typeof absentMetrics]})` : ''}.`,
        });
      }
      return metric;
    }
    return trainingMetric(rule.metric, rule.stat, rule.target.job);
  }

  async function describeAlarms(names: string[] | undefined, signal?: AbortSignal) {
    const alarms = [];
    const pages = aws.items(
      'cloudWatch',
      'DescribeAlarms',
      ({ module, client }, abortSignal) =>
        module.paginateDescribeAlarms(
          { client, stopOnSameToken: true },
          {
            ...(names ? { AlarmNames: names } : { AlarmNamePrefix: alertAlarmPrefix }),
            AlarmTypes: ['MetricAlarm'],
          },
          { abortSignal },
        ),
      (page) => ({ items: page.MetricAlarms, nextToken: page.NextToken }),
      signal,
    );
    for await (const alarm of pages) alarms.push(alarm);
    return alarms;
  }

  function alertStatus(alarm: {
    AlarmDescription?: string;
    StateValue?: string;
    StateUpdatedTimestamp?: Date;
  }): AlertStatus | undefined {
    if (!alarm.AlarmDescription?.startsWith(descriptionPrefix)) return undefined;
    let rule: AlertRule;
    try {
      rule = alertRuleSchema.parse(JSON.parse(alarm.AlarmDescription.slice(descriptionPrefix.length)));
    } catch {
      return undefined;
    }
    return {
      rule,
      state: alarm.StateValue === 'ALARM' ? 'firing' : 'ok',
      since: alarm.StateUpdatedTimestamp ?? new Date(0),
    };
  }

  return {
    async doMetrics(input, options) {
      const query = parseSpec(metricQuerySchema, input, 'metric query');
      const { signal } = options;
      // GetMetricData refuses other periods: the nearest it takes is used, and the result says which.
      const periodSeconds = metricPeriod(query.periodSeconds);
      const periodMs = periodSeconds * 1000;
      const to = (query.to ?? new Date()).getTime();
      const from = (query.from ?? new Date(to - 3_600_000)).getTime();
      const startMs = Math.floor(from / periodMs) * periodMs;
      const endMs = Math.max(startMs + periodMs, Math.ceil(to / periodMs) * periodMs);
      const absent: { name: string; reason: string }[] = [];
      const plans: { name: string; metrics: { id: string; metric: CloudWatchMetric }[] }[] = [];
      const variants =
        'deployment' in query.target ? await endpointVariants(query.target.deployment, signal) : [];
      const target = query.target;
      for (const [index, name] of query.names.entries()) {
        if ('deployment' in target) {
          const metrics = variants
            .map((variant, variantIndex) => ({
              id: `m${index}v${variantIndex}`,
              metric: endpointMetric(name, query.stat, target.deployment, variant),
            }))
            .filter((entry): entry is { id: string; metric: CloudWatchMetric } => entry.metric !== undefined);
          if (metrics.length === 0) {
            absent.push({
              name,
              reason:
                absentMetrics[name as keyof typeof absentMetrics] ??
                `'${name}' is not a SageMaker endpoint metric`,
            });
            continue;
          }
          plans.push({ name, metrics });
        } else {
          plans.push({
            name,
            metrics: [{ id: `m${index}`, metric: trainingMetric(name, query.stat, target.job) }],
          });
        }
      }
      const fetched = await fetchSeries(
        plans.flatMap((plan) => plan.metrics),
        startMs,
        endMs,
        periodSeconds,
        signal,
      );
      const timestamps: Date[] = [];
      for (let bucket = startMs; bucket < endMs; bucket += periodMs) timestamps.push(new Date(bucket));
      const series: MetricSeries[] = plans.map((plan) => {
        const first = plan.metrics[0]!.metric;
        const values = timestamps.map((timestamp) => {
          const found = plan.metrics
            .map(({ id }) => fetched.get(id)?.get(timestamp.getTime()))
            .filter((value): value is number => value !== undefined);
          if (found.length === 0) return null;
          const total = found.reduce((sum, value) => sum + value, 0);
          return (first.combine === 'sum' ? total : total / found.length) * first.scale;
        });
        return {
          name: plan.name,
          stat: normalizedStatistic(first.stat),
          unit: first.unit,
          timestamps,
          values,
        };
      });
      // A job metric nobody emitted is absent rather than an all-null series.
      const present = series.filter(
        (entry) => 'deployment' in query.target || entry.values.some((value) => value !== null),
      );
      for (const entry of series) {
        if (!present.includes(entry))
          absent.push({
            name: entry.name,
            reason: `the job published no '${entry.name}' metric in this window`,
          });
      }
      const result: MetricQueryResult = { periodSeconds, series: present };
      if (absent.length) result.absent = absent;
      return result;
    },

    async *doLogs(targetInput: MonitoringTarget, queryInput: LogQuery, options) {
      const target = parseSpec(monitoringTargetSchema, targetInput, 'log target');
      const query = parseSpec(logQuerySchema, queryInput, 'log query');
      const { signal } = options;
      const isJob = 'job' in target;
      const logGroupName = isJob
        ? '/aws/sagemaker/TrainingJobs'
        : `/aws/sagemaker/Endpoints/${target.deployment}`;
      const streamPrefix = isJob ? `${target.job}/` : undefined;
      const seen = new Set<string>();
      let startTime = query.since?.getTime();
      let yielded = 0;
      const filterPattern = query.filter
        ? `"${query.filter.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
        : undefined;

      // Following ends quietly when the signal aborts, also in the middle of a read.
      const readLogPage = async <Page>(read: () => Promise<Page>): Promise<Page | undefined> => {
        try {
          return await read();
        } catch (error) {
          if (query.follow && signal?.aborted) return undefined;
          throw error;
        }
      };

      const jobEnded = async (): Promise<boolean> => {
        if (!isJob) return false;
        const describe = await aws.find(
          'sageMaker',
          'DescribeTrainingJob',
          ({ module, client }, abortSignal) =>
            client.send(new module.DescribeTrainingJobCommand({ TrainingJobName: target.job }), {
              abortSignal,
            }),
          signal,
        );
        return (
          !describe ||
          terminalTrainingJobStates.has(trainingState(describe.TrainingJobStatus, describe.SecondaryStatus))
        );
      };

      for (;;) {
        // Whether the job had ended before this pass: then this pass reads its last lines and stops.
        const endedBefore = query.follow ? ((await readLogPage(jobEnded)) ?? true) : true;
        const events = aws.items(
          'logs',
          'FilterLogEvents',
          ({ module, client }, abortSignal) =>
            module.paginateFilterLogEvents(
              { client, stopOnSameToken: true },
              {
                logGroupName,
                ...(streamPrefix ? { logStreamNamePrefix: streamPrefix } : {}),
                ...(startTime !== undefined ? { startTime } : {}),
                ...(filterPattern ? { filterPattern } : {}),
              },
              { abortSignal },
            ),
          (page) => ({ items: page.events, nextToken: page.nextToken }),
          signal,
        );
        try {
          for await (const event of events) {
            const id = event.eventId ?? `${event.logStreamName}:${event.timestamp}:${event.message}`;
            if (seen.has(id)) continue;
            seen.add(id);
            const message = (event.message ?? '').replace(/\n$/, '');
            if (query.filter && !message.includes(query.filter)) continue;
            const stream = event.logStreamName ?? '';
            const entry: LogEntry = {
              time: new Date(event.timestamp ?? 0),
              source: isJob
                ? stream.slice(streamPrefix!.length).replace(/-\d+$/, '') || stream
                : stream.split('/')[0] || stream,
              message,
              fields: { logStream: stream },
            };
            yield entry;
            yielded++;
            if (!query.follow && query.limit !== undefined && yielded >= query.limit) return;
            if (signal?.aborted) return;
            // Later passes start at the newest timestamp seen; the ids above drop repeats at that instant.
            if (event.timestamp !== undefined) startTime = Math.max(startTime ?? 0, event.timestamp);
          }
        } catch (error) {
          // No log group yet: nothing was written. Following ends quietly when the signal aborts.
          if (query.follow && signal?.aborted) return;
          if (!MlscaleError.hasCode(error, 'NotFound')) throw error;
        }
        if (!query.follow || endedBefore) return;
        if (signal?.aborted) return;
        try {
          await sleep(settings.polling.logIntervalMs, signal);
        } catch {
          return;
        }
      }
    },

    async doPutAlert(input, options) {
      const rule = parseSpec(alertRuleSchema, input, 'alert rule');
      const { period, evaluationPeriods } = alarmWindow(rule);
      if (rule.webhookUrl) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message:
            'webhookUrl: CloudWatch alarms notify through Amazon SNS; subscribe the URL to an SNS topic and add the topic as an alarm action yourself, or leave webhookUrl out.',
        });
      }
      const metric = await alarmMetric(rule, options.signal);
      const description = `${descriptionPrefix}${JSON.stringify(rule)}`;
      if (description.length > 1024) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message:
            'The alert rule is too long to record in a CloudWatch alarm description (1024 characters).',
        });
      }
      const alarmName = `${alertAlarmPrefix}${rule.name}`;
      await aws.call(
        'cloudWatch',
        'PutMetricAlarm',
        ({ module, client }, abortSignal) =>
          client.send(
            new module.PutMetricAlarmCommand({
              AlarmName: alarmName,
              AlarmDescription: description,
              Namespace: metric.namespace,
              MetricName: metric.metricName,
              Dimensions: metric.dimensions,
              ...(isExtendedStatistic(metric.stat)
                ? { ExtendedStatistic: metric.stat }
                : { Statistic: metric.stat as never }),
              Period: period,
              EvaluationPeriods: evaluationPeriods,
              Threshold: rule.threshold / metric.scale,
              ComparisonOperator: comparisonOperators[rule.comparator],
              TreatMissingData: 'missing',
              Tags: [{ Key: 'mlscale:alert', Value: rule.name }],
            }),
            { abortSignal },
          ),
        options.signal,
      );
      const [alarm] = await describeAlarms([alarmName], options.signal);
      return (alarm && alertStatus(alarm)) ?? { rule, state: 'ok', since: new Date() };
    },

    async doListAlerts(options) {
      const alarms = await describeAlarms(undefined, options.signal);
      return alarms
        .map((alarm) => alertStatus(alarm))
        .filter((status): status is AlertStatus => status !== undefined);
    },

    async doDeleteAlert(name, options) {
      parseSpec(resourceNameSchema, name, 'alert name');
      const alarmName = `${alertAlarmPrefix}${name}`;
      const existing = await describeAlarms([alarmName], options.signal);
      if (existing.length === 0) return false;
      await aws.find(
        'cloudWatch',
        'DeleteAlarms',
        ({ module, client }, abortSignal) =>
          client.send(new module.DeleteAlarmsCommand({ AlarmNames: [alarmName] }), { abortSignal }),
        options.signal,
      );
      return true;
    },
  };
}
