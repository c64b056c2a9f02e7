import { type AlertRule, MlscaleError } from '@mlscale/core';

/** The allowed value nearest to `seconds` (the larger on a tie): one of `fixed`, or a multiple of 60. */
function nearest(seconds: number, fixed: readonly number[]): number {
  const minutes = seconds / 60;
  const candidates = [...fixed, Math.floor(minutes) * 60, Math.ceil(minutes) * 60].filter(
    (candidate) => candidate > 0,
  );
  return candidates.reduce((best, candidate) => {
    const distance = Math.abs(candidate - seconds) - Math.abs(best - seconds);
    return distance < 0 || (distance === 0 && candidate > best) ? candidate : best;
  });
}

/**
 * The period GetMetricData reads `seconds` in: MetricStat.Period is "1, 5, 10, 20, 30, 60, or any
 * multiple of 60" (CloudWatch API reference, MetricStat), so another value is rounded to the nearest.
 * The query's result says which period it used.
 */
export function metricPeriod(seconds: number): number {
  return nearest(seconds, [1, 5, 10, 20, 30, 60]);
}

/** PutMetricAlarm's Period: "10, 20, 30, and any multiple of 60" (API reference, PutMetricAlarm). */
export function alarmPeriod(seconds: number): number {
  return nearest(seconds, [10, 20, 30, 60]);
}

/**
 * "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period
 * of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day
 * (86,400 seconds)" (API reference, PutMetricAlarm).
 */
function longestWindow(period: number): number {
  return period < 3600 ? 86_400 : 604_800;
}

function tooLong(field: 'forSeconds' | 'periodSeconds', message: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    provider: 'aws',
    message: `${field}: ${message}`,
    issues: [{ path: field, message }],
  });
}

/**
 * The alarm's Period and EvaluationPeriods for a rule: its period rounded to one CloudWatch allows, and
 * as many of those as `forSeconds` takes (one at least). A rule CloudWatch cannot express is refused
 * with InvalidSpec naming the field, before any request.
 */
export function alarmWindow(rule: Pick<AlertRule, 'periodSeconds' | 'forSeconds'>): {
  period: number;
  evaluationPeriods: number;
} {
  const period = alarmPeriod(rule.periodSeconds);
  if (period > longestWindow(period)) {
    throw tooLong(
      'periodSeconds',
      `a CloudWatch alarm evaluates at most ${longestWindow(period)} seconds (7 days); ${rule.periodSeconds} s periods (${period} s as CloudWatch counts them) are longer.`,
    );
  }
  const evaluationPeriods = Math.max(1, Math.ceil(rule.forSeconds / period));
  const window = period * evaluationPeriods;
  if (window > longestWindow(period)) {
    throw tooLong(
      'forSeconds',
      period < 3600
        ? `a CloudWatch alarm with periods shorter than an hour evaluates at most 86400 seconds (1 day); ${rule.forSeconds} s of ${period} s periods is ${window} s. Use periodSeconds of 3600 or more for up to 7 days.`
        : `a CloudWatch alarm evaluates at most 604800 seconds (7 days); ${rule.forSeconds} s of ${period} s periods is ${window} s.`,
    );
  }
  return { period, evaluationPeriods };
}
