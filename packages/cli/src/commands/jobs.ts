import type { TrainingJobStatus } from '@mlscale/core';
import { renderTable } from '../output/render-table.js';
import { exitCodes } from './command-context.js';
import { defineCommand } from './define-command.js';
import { openProject } from './open-project.js';

/** `mlscale jobs`: training jobs on the file's backends. */
export const jobsCommand = defineCommand({
  name: 'jobs',
  summary: "List the training jobs on the file's backends (all of them, not only the file's).",
  usage: 'mlscale jobs [--env NAME] [--backend NAME] [--json]',
  optionHelp: ['      --backend NAME  only this backend of the file'],
  examples: ['mlscale jobs', 'mlscale jobs --env prod --json'],
  options: { backend: { type: 'string' } },
  async run({ values, context, output }) {
    const project = await openProject(values, context);
    try {
      const backends = [...project.config.backends.keys()].filter(
        (name) => !values.backend || name === values.backend,
      );
      const rows: (TrainingJobStatus & { backend: string })[] = [];
      for (const backend of backends) {
        const client = await project.pool.client(backend);
        if (!client.backend.training) continue;
        for await (const job of client.jobs(context.signal ? { signal: context.signal } : {}))
          rows.push({ ...job, backend });
      }
      rows.sort((left, right) => right.createdAt.getTime() - left.createdAt.getTime());
      if (output.json) {
        output.result({
          ok: true,
          jobs: rows.map(({ spec: _spec, ...job }) => job),
        });
        return exitCodes.ok;
      }
      output.line(
        rows.length
          ? renderTable(
              ['NAME', 'BACKEND', 'STATE', 'CREATED', 'DURATION', 'METRICS'],
              rows.map((job) => [
                job.name,
                job.backend,
                job.state,
                job.createdAt.toISOString(),
                job.startedAt
                  ? `${Math.round(((job.endedAt ?? new Date()).getTime() - job.startedAt.getTime()) / 1000)}s`
                  : '-',
                Object.entries(job.finalMetrics ?? {})
                  .map(([name, value]) => `${name}=${value}`)
                  .join(' '),
              ]),
            )
          : 'No training jobs.',
      );
      return exitCodes.ok;
    } finally {
      await project.close();
    }
  },
});
