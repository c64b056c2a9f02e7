import { type MonitoringTarget, redact } from '@mlscale/core';
import { exitCodes } from './command-context.js';
import { parseDuration } from './converge.js';
import { defineCommand } from './define-command.js';
import { findResource } from './find-resource.js';
import { openProject } from './open-project.js';

/** `mlscale logs NAME`: a deployment's or training job's log lines. */
export const logsCommand = defineCommand({
  name: 'logs',
  summary: "Print a deployment's or training job's logs; --follow keeps printing new lines.",
  usage: 'mlscale logs NAME [--follow] [--since 10m] [--filter TEXT] [--limit N] [--json]',
  optionHelp: [
    '      --follow        keep printing new lines until Ctrl-C (or the job ends)',
    '      --since DUR     only lines from this long ago (90s, 15m, 2h)',
    '      --filter TEXT   only lines containing TEXT',
    '      --limit N       at most N lines (not with --follow)',
  ],
  examples: [
    'mlscale logs mnist-classifier --since 15m',
    'mlscale logs train-mnist --follow',
    'mlscale logs mnist-classifier --json --limit 100',
  ],
  options: {
    follow: { type: 'boolean', default: false },
    since: { type: 'string' },
    filter: { type: 'string' },
    limit: { type: 'string' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  async run({ values, positionals, context, output }) {
    const project = await openProject(values, context);
    try {
      const resource = findResource(project.config, positionals[0] ?? '');
      const client = await project.pool.client(resource.backend);
      const target: MonitoringTarget =
        resource.kind === 'deployment' ? { deployment: resource.name } : { job: resource.name };
      const query = {
        follow: values.follow === true,
        ...(values.since ? { since: new Date(Date.now() - parseDuration(values.since)) } : {}),
        ...(values.filter ? { filter: values.filter } : {}),
        ...(values.limit ? { limit: Number(values.limit) } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      };
      // One JSON object per line with --json: it streams, and each line parses on its own.
      for await (const entry of client.logs(target, query)) {
        if (output.json)
          context.stdout.write(
            `${JSON.stringify(redact({ time: entry.time.toISOString(), source: entry.source, message: entry.message, ...(entry.fields ? { fields: entry.fields } : {}) }))}\n`,
          );
        else output.line(`${entry.time.toISOString()} ${output.color.dim(entry.source)} ${entry.message}`);
      }
      return exitCodes.ok;
    } catch (error) {
      // Ctrl-C ends --follow normally.
      if (values.follow && context.signal?.aborted) return exitCodes.ok;
      throw error;
    } finally {
      await project.close();
    }
  },
});
