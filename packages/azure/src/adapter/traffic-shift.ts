import type { AdapterContext } from './adapter-context.js';

/**
 * Traffic part-way from `from` to `to` (fraction 0–1), in whole percentages adding up to 100: the
 * largest remainders get the rounding, as Azure takes only whole numbers.
 */
export function blendTraffic(
  from: Record<string, number>,
  to: Record<string, number>,
  fraction: number,
): Record<string, number> {
  const names = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  const exact = names.map((name) => ({
    name,
    value: (from[name] ?? 0) * (1 - fraction) + (to[name] ?? 0) * fraction,
  }));
  const result: Record<string, number> = {};
  let assigned = 0;
  for (const entry of exact) {
    result[entry.name] = Math.floor(entry.value);
    assigned += Math.floor(entry.value);
  }
  const byRemainder = [...exact].sort(
    (left, right) => (right.value % 1) - (left.value % 1) || left.name.localeCompare(right.name),
  );
  for (let index = 0; assigned < 100 && index < byRemainder.length; index++, assigned++) {
    const name = byRemainder[index]?.name ?? '';
    result[name] = (result[name] ?? 0) + 1;
  }
  return result;
}

/**
 * Requests and the 5xx share of the given deployments since `since`, from Azure Monitor's
 * `RequestsPerMinute` on the endpoint, split by its `deployment` and `statusCodeClass` dimensions.
 */
export async function errorRateSince(
  context: AdapterContext,
  endpointId: string,
  deployments: string[],
  since: number,
  signal: AbortSignal | undefined,
): Promise<{ requests: number; errors: number; errorRate: number }> {
  const start = new Date(Math.floor(since / 60_000) * 60_000);
  const end = new Date(Date.now() + 1);
  let requests = 0;
  let errors = 0;
  for (const deployment of deployments) {
    for (const statusClass of [undefined, '5xx']) {
      const filter = `deployment eq '${deployment}'${statusClass ? ` and statusCodeClass eq '${statusClass}'` : ''}`;
      const response = await context.call('Reading request metrics', (clients) =>
        clients.monitor.metrics.list(endpointId.replace(/^\//, ''), {
          metricnames: 'RequestsPerMinute',
          aggregation: 'Total',
          interval: 'PT1M',
          timespan: `${start.toISOString()}/${end.toISOString()}`,
          filter,
          abortSignal: signal,
        }),
      );
      const total = response.value
        .flatMap((metric) => metric.timeseries ?? [])
        .flatMap((series) => series.data ?? [])
        .reduce((sum, point) => sum + (point.total ?? 0), 0);
      if (statusClass) errors += total;
      else requests += total;
    }
  }
  return { requests, errors, errorRate: requests > 0 ? errors / requests : 0 };
}
