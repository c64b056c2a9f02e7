import { MlscaleError, redact, sleep } from '@mlscale/core';
import { renderTable } from '../output/render-table.js';
import { readState } from '../state/state-store.js';
import { exitCodes } from './command-context.js';
import { parseDuration } from './converge.js';
import { type CommandOutput, defineCommand } from './define-command.js';
import { findResource } from './find-resource.js';
import { type OpenProject, openProject } from './open-project.js';

interface StatusRow {
  kind: string;
  name: string;
  backend: string;
  state: string;
  /** Numbers, so `--json` consumers compare them without parsing. */
  replicas?: { ready: number; desired: number };
  endpoint?: string;
  detail?: string;
}

/** `mlscale status`: the live state of everything the file and the state name. */
export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Show the live state of the deployments and training jobs in the file.',
  usage: 'mlscale status [NAME] [--env NAME] [--watch [--interval 5s] [--count N]] [--json]',
  optionHelp: [
    '  -w, --watch         refresh until Ctrl-C',
    '      --interval DUR  time between refreshes (default 5s)',
    '      --count N       stop after N refreshes (with --watch)',
  ],
  examples: [
    'mlscale status',
    'mlscale status mnist-classifier          # one resource, its whole status',
    'mlscale status --env prod --watch',
    'mlscale status --json',
  ],
  options: {
    watch: { type: 'boolean', short: 'w', default: false },
    interval: { type: 'string' },
    count: { type: 'string' },
  },
  maxPositionals: 1,
  async run({ values, positionals, context, output }) {
    const project = await openProject(values, context);
    try {
      if (positionals[0] !== undefined)
        return await describeOne(project, positionals[0], context.signal, output);
      const intervalMs = parseDuration(values.interval ?? '5s');
      const count =
        values.count === undefined ? (values.watch ? Number.POSITIVE_INFINITY : 1) : Number(values.count);
      if (!Number.isInteger(count) && count !== Number.POSITIVE_INFINITY) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          message: `--count: expected a whole number, got '${values.count}'`,
        });
      }
      let exitCode: number = exitCodes.ok;
      for (let refresh = 0; refresh < count; refresh++) {
        if (refresh > 0) {
          try {
            await sleep(intervalMs, context.signal);
          } catch {
            break; // Ctrl-C ends a watch normally.
          }
        }
        const rows = await collect(project, context.signal);
        exitCode = rows.some((row) => row.state === 'Failed' || row.state === 'unreachable')
          ? exitCodes.failed
          : exitCodes.ok;
        if (output.json) {
          // One JSON document per refresh (JSON lines when watching).
          const document = { time: new Date().toISOString(), resources: rows };
          if (values.watch) context.stdout.write(`${JSON.stringify(redact(document))}\n`);
          else output.result(document);
          continue;
        }
        if (values.watch && context.stdout.isTTY) context.stdout.write('\u001b[2J\u001b[H');
        if (values.watch) output.line(output.color.dim(new Date().toISOString()));
        output.line(
          rows.length
            ? renderTable(
                ['NAME', 'KIND', 'BACKEND', 'STATE', 'REPLICAS', 'ENDPOINT / DETAIL'],
                rows.map((row) => [
                  row.name,
                  row.kind,
                  row.backend,
                  paintState(row.state, output.color),
                  row.replicas ? `${row.replicas.ready}/${row.replicas.desired}` : '-',
                  row.endpoint ?? row.detail ?? '',
                ]),
              )
            : 'No deployments or training jobs in the file.',
        );
      }
      return exitCode;
    } finally {
      await project.close();
    }
  },
});

/** `status NAME`: one deployment's or job's whole status, as the backend reports it. */
async function describeOne(
  project: OpenProject,
  name: string,
  signal: AbortSignal | undefined,
  output: CommandOutput,
): Promise<number> {
  const resource = findResource(project.config, name);
  const client = await project.pool.client(resource.backend);
  const options = signal ? { signal } : {};
  const status =
    resource.kind === 'deployment' ? await client.get(name, options) : await client.job(name, options);
  if (output.json) output.result({ kind: resource.kind, backend: resource.backend, status });
  else {
    output.line(output.color.bold(`${resource.kind} ${name} (backend ${resource.backend})`));
    for (const [field, value] of Object.entries(redact(status) as unknown as Record<string, unknown>)) {
      if (value === undefined) continue;
      const shown = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
      output.line(`  ${field}: ${shown}`);
    }
  }
  return status.state === 'Failed' ? exitCodes.failed : exitCodes.ok;
}

async function collect(project: OpenProject, signal: AbortSignal | undefined): Promise<StatusRow[]> {
  const { config, pool } = project;
  const state = await readState(config.directory, config.project, config.environment);
  const entries = [
    ...config.resources.map((resource) => ({
      kind: resource.kind,
      name: resource.name,
      backend: resource.backend,
    })),
    ...Object.values(state.resources)
      .filter(
        (entry) =>
          !config.resources.some((resource) => resource.kind === entry.kind && resource.name === entry.name),
      )
      .map((entry) => ({ kind: entry.kind, name: entry.name, backend: entry.backend })),
  ];
  const options = signal ? { signal } : {};
  const rows: StatusRow[] = [];
  for (const entry of entries) {
    const base = { kind: entry.kind, name: entry.name, backend: entry.backend };
    try {
      const client = await pool.client(entry.backend);
      if (entry.kind === 'deployment') {
        const status = await client.get(entry.name, options);
        rows.push({
          ...base,
          state: status.state,
          replicas: { ready: status.replicas.ready, desired: status.replicas.desired },
          ...(status.endpoint ? { endpoint: status.endpoint.url } : {}),
          ...(status.stateReason ? { detail: status.stateReason } : {}),
        });
      } else {
        const status = await client.job(entry.name, options);
        rows.push({
          ...base,
          state: status.state,
          ...(status.failureReason || status.secondaryStatus
            ? { detail: status.failureReason ?? status.secondaryStatus }
            : {}),
        });
      }
    } catch (error) {
      if (MlscaleError.hasCode(error, 'NotFound'))
        rows.push({ ...base, state: 'absent', detail: 'not created (run apply)' });
      else
        rows.push({
          ...base,
          state: 'unreachable',
          detail: error instanceof Error ? error.message.split('\n')[0] : String(error),
        });
    }
  }
  return rows;
}

function paintState(
  state: string,
  color: { green(text: string): string; yellow(text: string): string; red(text: string): string },
): string {
  if (state === 'InService' || state === 'Completed') return color.green(state);
  if (state === 'Failed' || state === 'unreachable') return color.red(state);
  return color.yellow(state);
}
