import { normalizedMetricNames } from '@mlscale/core';
import { renderTable } from '../output/render-table.js';
import { exitCodes } from './command-context.js';
import { parseDuration } from './converge.js';
import { defineCommand, listValues } from './define-command.js';
import { findResource } from './find-resource.js';
import { openProject } from './open-project.js';

/** `mlscale metrics NAME`: aligned metric series of a deployment or job. */
export const metricsCommand = defineCommand({
  name: 'metrics',
  summary: "Print a deployment's (or training job's) metrics over a time window.",
  usage:
    'mlscale metrics NAME [--since 1h] [--names invocations,latencyP99] [--period 60] [--stat average] [--json]',
  optionHelp: [
    '      --since DUR     window ending now (default 1h)',
    `      --names LIST    metric names (default invocations,errors5xx,latencyP99,replicas; any of ${normalizedMetricNames.join(', ')}, or a job's own)`,
    '      --period SEC    bucket size in seconds (default 60)',
    '      --stat STAT     average, sum, minimum, maximum, sampleCount, p50, p90, p99 (default average)',
  ],
  examples: [
    'mlscale metrics mnist-classifier --since 3h',
    'mlscale metrics mnist-classifier --names latencyP99 --stat p99 --json',
  ],
  options: {
    since: { type: 'string' },
    names: { type: 'string', multiple: true },
    period: { type: 'string' },
    stat: { type: 'string' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  async run({ values, positionals, context, output }) {
    const project = await openProject(values, context);
    try {
      const resource = findResource(project.config, positionals[0] ?? '');
      const client = await project.pool.client(resource.backend);
      const names = listValues(values.names);
      const to = new Date();
      const result = await client.metrics(
        {
          target: resource.kind === 'deployment' ? { deployment: resource.name } : { job: resource.name },
          names: names.length ? names : ['invocations', 'errors5xx', 'latencyP99', 'replicas'],
          from: new Date(to.getTime() - parseDuration(values.since ?? '1h')),
          to,
          ...(values.period ? { periodSeconds: Number(values.period) } : {}),
          ...(values.stat ? { stat: values.stat as 'average' } : {}),
        },
        context.signal ? { signal: context.signal } : {},
      );
      if (output.json) {
        output.result({ ok: true, name: resource.name, ...result });
        return exitCodes.ok;
      }
      const timestamps = result.series[0]?.timestamps ?? [];
      output.line(
        renderTable(
          ['TIME', ...result.series.map((series) => `${series.name} (${series.stat}, ${series.unit})`)],
          timestamps.map((time, index) => [
            time.toISOString(),
            ...result.series.map((series) => formatValue(series.values[index])),
          ]),
        ),
      );
      for (const absent of result.absent ?? [])
        output.line(output.color.dim(`${absent.name}: not available (${absent.reason})`));
      return exitCodes.ok;
    } finally {
      await project.close();
    }
  },
});

function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
