import { AwsServiceError, constraintViolation } from './aws-service-error.js';
import {
  type AlarmRecord,
  type EmulatorContext,
  epochSeconds,
  fromEpochSeconds,
  type JsonObject,
  type MetricDatapoint,
  recordMetric,
  stringField,
} from './emulator-context.js';
import { paginate } from './pagination.js';

type Handler = (context: EmulatorContext, input: JsonObject) => JsonObject;

function dimensionsOf(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const dimension of (Array.isArray(value) ? value : []) as JsonObject[]) {
    result[String(dimension.Name)] = String(dimension.Value);
  }
  return result;
}

function sameDimensions(left: Record<string, string>, right: Record<string, string>): boolean {
  const leftKeys = Object.keys(left);
  return leftKeys.length === Object.keys(right).length && leftKeys.every((key) => left[key] === right[key]);
}

/** CloudWatch statistics over one bucket's values: Sum, Average, ..., and percentiles pNN(.N). */
export function statistic(values: number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((total, value) => total + value, 0);
    case 'Average':
      return values.reduce((total, value) => total + value, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
  }
  const percentile = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  if (!percentile) {
    throw new AwsServiceError('InvalidParameterValue', `The value ${stat} for parameter Stat is not valid.`);
  }
  const sorted = [...values].sort((left, right) => left - right);
  // Nearest rank, as CloudWatch's percentiles over raw values.
  const rank = Math.max(1, Math.ceil((Number(percentile[1]) / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Bucketed values of one metric: bucket start (ms) → statistic. */
function aggregate(
  datapoints: readonly MetricDatapoint[],
  metric: { namespace: string; metricName: string; dimensions: Record<string, string> },
  startMs: number,
  endMs: number,
  periodSeconds: number,
  stat: string,
): Map<number, number> {
  const periodMs = periodSeconds * 1000;
  const buckets = new Map<number, number[]>();
  for (const point of datapoints) {
    if (point.namespace !== metric.namespace || point.metricName !== metric.metricName) continue;
    if (!sameDimensions(point.dimensions, metric.dimensions)) continue;
    if (point.timestamp < startMs || point.timestamp >= endMs) continue;
    const bucket = startMs + Math.floor((point.timestamp - startMs) / periodMs) * periodMs;
    const values = buckets.get(bucket) ?? [];
    values.push(point.value);
    buckets.set(bucket, values);
  }
  const result = new Map<number, number>();
  for (const [bucket, values] of buckets) {
    const value = statistic(values, stat);
    if (value !== undefined) result.set(bucket, value);
  }
  return result;
}

const comparators: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanThreshold: (value, threshold) => value > threshold,
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/** Evaluates an alarm over its last evaluation periods, as CloudWatch does each period. */
export function evaluateAlarm(context: EmulatorContext, alarm: AlarmRecord): AlarmRecord['lastState'] {
  const definition = alarm.definition;
  const period = Number(definition.Period ?? 60);
  const periods = Number(definition.EvaluationPeriods ?? 1);
  const toAlarm = Number(definition.DatapointsToAlarm ?? periods);
  const now = context.now();
  // A window sliding with the clock (CloudWatch aligns to periods): same verdicts, no boundary effects in tests.
  const endMs = now + 1;
  const startMs = endMs - periods * period * 1000;
  const metric = {
    namespace: String(definition.Namespace),
    metricName: String(definition.MetricName),
    dimensions: dimensionsOf(definition.Dimensions),
  };
  if (alarm.manual) {
    const newer = context.metrics.some(
      (point) =>
        point.timestamp > alarm.manual!.at &&
        point.namespace === metric.namespace &&
        point.metricName === metric.metricName &&
        sameDimensions(point.dimensions, metric.dimensions),
    );
    if (!newer) return { ...alarm.manual };
    delete alarm.manual;
  }
  const stat = String(definition.ExtendedStatistic ?? definition.Statistic ?? 'Average');
  const values = aggregate(context.metrics, metric, startMs, endMs, period, stat);
  const compare = comparators[String(definition.ComparisonOperator)] ?? comparators.GreaterThanThreshold!;
  const threshold = Number(definition.Threshold);
  let state: string;
  let reason: string;
  if (values.size === 0) {
    state = 'INSUFFICIENT_DATA';
    reason = `Insufficient Data: no datapoints in the last ${periods} period(s) of ${period} s.`;
  } else {
    const breaching = [...values.values()].filter((value) => compare(value, threshold)).length;
    state = breaching >= toAlarm ? 'ALARM' : 'OK';
    reason = `Threshold Crossed: ${breaching} out of the last ${periods} datapoints [${[...values.values()].join(', ')}] crossed the threshold (${threshold}).`;
  }
  if (state !== alarm.lastState.StateValue)
    alarm.lastState = { StateValue: state, StateReason: reason, at: now };
  return alarm.lastState;
}

function describeAlarm(context: EmulatorContext, alarm: AlarmRecord): JsonObject {
  const state = evaluateAlarm(context, alarm);
  const { Tags: _tags, ...definition } = alarm.definition;
  return {
    ...definition,
    AlarmArn: alarm.AlarmArn,
    AlarmConfigurationUpdatedTimestamp: epochSeconds(alarm.configuredAt),
    ActionsEnabled: definition.ActionsEnabled ?? true,
    StateValue: state.StateValue,
    StateReason: state.StateReason,
    StateUpdatedTimestamp: epochSeconds(state.at),
    StateTransitionedTimestamp: epochSeconds(state.at),
  };
}

/**
 * GetMetricData's MetricStat.Period: "1, 5, 10, 20, 30, 60, or any multiple of 60" (CloudWatch API
 * reference, MetricStat). The error name follows CloudWatch's other parameter refusals; the exact
 * message is in CloudWatch's style, not confirmed.
 */
export function isMetricPeriod(period: number): boolean {
  return (
    Number.isInteger(period) && period >= 1 && ([1, 5, 10, 20, 30].includes(period) || period % 60 === 0)
  );
}

/** PutMetricAlarm's Period: "10, 20, 30, and any multiple of 60" (CloudWatch API reference, PutMetricAlarm). */
export function isAlarmPeriod(period: number): boolean {
  return Number.isInteger(period) && period >= 1 && ([10, 20, 30].includes(period) || period % 60 === 0);
}

/**
 * GetMetricData's time range. CloudWatch answers an empty range with ValidationError "The parameter
 * StartTime must not equal parameter EndTime." (seen from the real service); a reversed one is refused
 * the same way (that wording is in CloudWatch's style, not confirmed).
 */
function requireTimeRange(input: JsonObject): { start: number; end: number } {
  const start = fromEpochSeconds(input.StartTime);
  const end = fromEpochSeconds(input.EndTime);
  if (start === undefined)
    throw new AwsServiceError('MissingParameter', 'The parameter StartTime is required.');
  if (end === undefined) throw new AwsServiceError('MissingParameter', 'The parameter EndTime is required.');
  if (start === end) {
    throw new AwsServiceError('ValidationError', 'The parameter StartTime must not equal parameter EndTime.');
  }
  if (start > end) {
    throw new AwsServiceError(
      'ValidationError',
      'The parameter StartTime must be less than the parameter EndTime.',
    );
  }
  return { start, end };
}

/**
 * An alarm on one metric (not metric math): Period must be 10, 20, 30 or a multiple of 60, and
 * "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period
 * of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day
 * (86,400 seconds)" (API reference, PutMetricAlarm). The wording of the refusals is not confirmed.
 */
function checkAlarmWindow(input: JsonObject): void {
  if (Array.isArray(input.Metrics)) return;
  const period = input.Period;
  if (period === undefined || period === null) {
    throw new AwsServiceError('MissingParameter', 'The parameter Period is required.');
  }
  if (typeof period !== 'number' || !isAlarmPeriod(period)) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The value ${String(period)} for parameter Period is not valid. The period must be 10, 20, 30 or a multiple of 60 seconds.`,
    );
  }
  const periods = input.EvaluationPeriods;
  if (typeof periods !== 'number' || !Number.isInteger(periods) || periods < 1) {
    throw constraintViolation(
      'evaluationPeriods',
      periods,
      'Member must have value greater than or equal to 1',
      'ValidationError',
    );
  }
  const window = period * periods;
  const limit = period < 3600 ? 86_400 : 604_800;
  if (window > limit) {
    throw new AwsServiceError(
      'InvalidParameterCombination',
      `The evaluation window (Period ${period} × EvaluationPeriods ${periods} = ${window} seconds) must not be longer than ${limit} seconds${period < 3600 ? ' for a period of less than one hour' : ''}.`,
    );
  }
}

export const cloudWatchHandlers: Readonly<Record<string, Handler>> = {
  PutMetricData(context, input) {
    const namespace = stringField(input, 'Namespace');
    if (!namespace) throw new AwsServiceError('MissingParameter', 'The parameter Namespace is required.');
    for (const datum of (input.MetricData as JsonObject[]) ?? []) {
      const timestamp = fromEpochSeconds(datum.Timestamp) ?? context.now();
      const values = Array.isArray(datum.Values) ? (datum.Values as number[]) : [Number(datum.Value)];
      const counts = Array.isArray(datum.Counts) ? (datum.Counts as number[]) : values.map(() => 1);
      values.forEach((value, index) => {
        for (let repeat = 0; repeat < (counts[index] ?? 1); repeat++) {
          recordMetric(
            context,
            namespace,
            String(datum.MetricName),
            dimensionsOf(datum.Dimensions),
            value,
            stringField(datum, 'Unit'),
            timestamp,
          );
        }
      });
    }
    return {};
  },

  GetMetricData(context, input) {
    const { start, end } = requireTimeRange(input);
    const queries = (input.MetricDataQueries as JsonObject[]) ?? [];
    // "A GetMetricData operation that does not include a query can retrieve as many as 500 different
    // metrics in a single request" (API reference); the wording of the refusal is not confirmed.
    if (queries.length === 0) {
      throw new AwsServiceError('MissingParameter', 'The parameter MetricDataQueries is required.');
    }
    if (queries.length > 500) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `The parameter MetricDataQueries must contain at most 500 queries; the request has ${queries.length}.`,
      );
    }
    const ascending = input.ScanBy === 'TimestampAscending';
    const results = queries.map((query, index) => {
      if (query.Expression) {
        throw new AwsServiceError(
          'InvalidParameterValue',
          `Query ${String(query.Id)}: metric math expressions are not supported by the emulator.`,
        );
      }
      const metricStat = query.MetricStat as JsonObject | undefined;
      const metric = metricStat?.Metric as JsonObject | undefined;
      if (!metricStat || !metric) {
        throw new AwsServiceError(
          'InvalidParameterValue',
          `Query ${String(query.Id)}: MetricStat is required.`,
        );
      }
      const period = Number(metricStat.Period);
      if (!isMetricPeriod(period)) {
        throw new AwsServiceError(
          'InvalidParameterValue',
          `The value ${String(metricStat.Period)} for parameter MetricDataQueries.member.${index + 1}.MetricStat.Period is not valid. The period must be 1, 5, 10, 20, 30, 60 or a multiple of 60 seconds.`,
        );
      }
      const values = aggregate(
        context.metrics,
        {
          namespace: String(metric.Namespace),
          metricName: String(metric.MetricName),
          dimensions: dimensionsOf(metric.Dimensions),
        },
        start,
        end,
        period,
        String(metricStat.Stat),
      );
      const buckets = [...values.keys()].sort((left, right) => (ascending ? left - right : right - left));
      return {
        Id: query.Id,
        Label: query.Label ?? metric.MetricName,
        Timestamps: buckets.map(epochSeconds),
        Values: buckets.map((bucket) => values.get(bucket)!),
        StatusCode: 'Complete',
      };
    });
    return { MetricDataResults: results, Messages: [] };
  },

  PutMetricAlarm(context, input) {
    const name = stringField(input, 'AlarmName');
    if (!name) throw new AwsServiceError('MissingParameter', 'The parameter AlarmName is required.');
    if (!comparators[String(input.ComparisonOperator)]) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `Invalid ComparisonOperator ${String(input.ComparisonOperator)}.`,
      );
    }
    checkAlarmWindow(input);
    const existing = context.alarms.get(name);
    const now = context.now();
    const record: AlarmRecord = {
      definition: { ...input },
      AlarmArn: existing?.AlarmArn ?? context.arn('cloudwatch', `alarm:${name}`),
      configuredAt: now,
      lastState: existing?.lastState ?? {
        StateValue: 'INSUFFICIENT_DATA',
        StateReason: 'Unchecked: Initial alarm creation',
        at: now,
      },
    };
    context.alarms.set(name, record);
    return {};
  },

  DescribeAlarms(context, input) {
    const names = Array.isArray(input.AlarmNames) ? new Set(input.AlarmNames as string[]) : undefined;
    const prefix = stringField(input, 'AlarmNamePrefix');
    const items = [...context.alarms.entries()]
      .filter(([name]) => (!names || names.has(name)) && (!prefix || name.startsWith(prefix)))
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([, alarm]) => describeAlarm(context, alarm))
      .filter((alarm) => !input.StateValue || alarm.StateValue === input.StateValue);
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxRecords, 50);
    return { MetricAlarms: page, CompositeAlarms: [], ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  DeleteAlarms(context, input) {
    const names = (input.AlarmNames as string[]) ?? [];
    const missing = names.filter((name) => !context.alarms.has(name));
    if (missing.length > 0) {
      throw new AwsServiceError(
        'ResourceNotFound',
        `${missing.length} alarm(s) not found: ${missing.join(', ')}`,
        404,
      );
    }
    for (const name of names) context.alarms.delete(name);
    return {};
  },

  SetAlarmState(context, input) {
    const name = stringField(input, 'AlarmName') ?? '';
    const alarm = context.alarms.get(name);
    if (!alarm) throw new AwsServiceError('ResourceNotFound', `Alarm ${name} not found`, 404);
    const state = String(input.StateValue);
    if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(state)) {
      throw new AwsServiceError('InvalidParameterValue', `Invalid StateValue ${state}.`);
    }
    const now = context.now();
    alarm.manual = {
      StateValue: state,
      StateReason: String(input.StateReason ?? 'Set by SetAlarmState'),
      at: now,
    };
    alarm.lastState = { ...alarm.manual };
    return {};
  },
};
