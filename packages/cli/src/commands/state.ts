import { MlscaleError } from '@mlscale/core';
import { renderTable } from '../output/render-table.js';
import { type ResourceKind, resourceKey } from '../state/state-document.js';
import { openStateSession, readState } from '../state/state-store.js';
import { exitCodes } from './command-context.js';
import { parseDuration } from './converge.js';
import { defineCommand } from './define-command.js';
import { openProject } from './open-project.js';

/**
 * `mlscale state list | rm NAME`: what the state records, and the way to stop managing a resource
 * without touching it in its backend (as `terraform state list / rm`).
 */
export const stateCommand = defineCommand({
  name: 'state',
  summary: 'List what the state records, or forget a resource (it keeps running; mlscale stops managing it).',
  usage: 'mlscale state list [--json]  |  mlscale state rm NAME [--kind deployment|trainingJob]',
  optionHelp: [
    '      --kind KIND     with rm: deployment or trainingJob, when a job and a deployment share NAME',
    '      --lock-timeout DUR wait this long for an apply to release the state (default 0)',
  ],
  examples: ['mlscale state list', 'mlscale state rm mnist-classifier   # destroy will leave it alone'],
  options: { kind: { type: 'string' }, 'lock-timeout': { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 2,
  async run({ values, positionals, context, output }) {
    const [action, name] = positionals;
    if (action !== 'list' && action !== 'rm') {
      throw new MlscaleError({
        code: 'InvalidSpec',
        message: `mlscale state: expected list or rm, got '${action}'.`,
      });
    }
    const project = await openProject(values, context);
    try {
      const { config } = project;
      if (action === 'list') {
        const state = await readState(config.directory, config.project, config.environment);
        const resources = Object.values(state.resources);
        if (output.json) output.result({ serial: state.serial, resources, inFlight: state.inFlight });
        else {
          output.line(
            resources.length
              ? renderTable(
                  ['KIND', 'NAME', 'BACKEND', 'PROVIDER', 'SPEC HASH', 'APPLIED'],
                  resources.map((entry) => [
                    entry.kind,
                    entry.name,
                    entry.backend,
                    entry.provider,
                    entry.specHash.slice(0, 12),
                    entry.appliedAt,
                  ]),
                )
              : 'The state records no resource.',
          );
          for (const operation of state.inFlight)
            output.line(
              `in flight: ${operation.action} ${operation.kind} ${operation.name} (pid ${operation.pid})`,
            );
        }
        return exitCodes.ok;
      }
      if (name === undefined)
        throw new MlscaleError({ code: 'InvalidSpec', message: 'mlscale state rm: give NAME.' });
      const session = await openStateSession(
        config.directory,
        config.project,
        config.environment,
        'mlscale state rm',
        {
          lockTimeoutMs: values['lock-timeout'] ? parseDuration(values['lock-timeout']) : 0,
          ...(context.signal ? { signal: context.signal } : {}),
        },
      );
      try {
        const kinds: ResourceKind[] = values.kind
          ? [values.kind as ResourceKind]
          : ['deployment', 'trainingJob'];
        const found = kinds.filter(
          (kind) => session.document.resources[resourceKey(kind, name)] !== undefined,
        );
        if (found.length !== 1) {
          throw new MlscaleError({
            code: found.length === 0 ? 'NotFound' : 'InvalidSpec',
            message:
              found.length === 0
                ? `The state records no ${values.kind ?? 'resource'} named '${name}' (see 'mlscale state list').`
                : `Both a deployment and a training job are named '${name}': pass --kind.`,
          });
        }
        await session.forget(found[0]!, name);
        output.line(
          `Forgot ${found[0]} '${name}': it keeps running in its backend, and mlscale no longer manages it.`,
        );
        if (output.json) output.result({ ok: true, forgotten: { kind: found[0], name } });
        return exitCodes.ok;
      } finally {
        await session.close();
      }
    } finally {
      await project.close();
    }
  },
});
