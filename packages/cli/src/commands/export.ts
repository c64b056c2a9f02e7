import { resolve } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import packageJson from '../../package.json' with { type: 'json' };
import { type ExportResult, exportDocker, exportKubernetes } from '../export/write-export.js';
import { exitCodes } from './command-context.js';
import { defineCommand, listValues } from './define-command.js';
import { findResource } from './find-resource.js';
import { openProject } from './open-project.js';

/** `mlscale export`: a container build context or Kubernetes manifests for the file's deployments. */
export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Write the mlscale server image (Dockerfile + model) or Kubernetes manifests for deployments.',
  usage: 'mlscale export --target docker|kubernetes [--deployment NAME]... [--output DIR] [--image IMAGE]',
  optionHelp: [
    '      --target KIND        docker (Dockerfile, .dockerignore, model/) or kubernetes (Deployment, Service, HPA)',
    '      --deployment NAME    only these deployments (default: all in the file); repeatable',
    '  -o, --output DIR         where to write (default mlscale-export)',
    '      --image IMAGE        image the manifests run (default NAME:latest)',
    '      --cpu QUANTITY       CPU request per replica (default 1)',
    '      --memory QUANTITY    memory request and limit per replica (default 2Gi)',
    '      --token-secret NAME  Secret with MLSCALE_TOKEN: requests need the bearer token',
    '      --namespace NAME     namespace for the manifests',
  ],
  examples: [
    'mlscale export --target docker && docker build -t mnist-classifier mlscale-export/mnist-classifier',
    'mlscale export --target kubernetes --image registry.example.com/mnist:1.0 && kubectl apply -f mlscale-export/',
  ],
  options: {
    target: { type: 'string' },
    deployment: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
    image: { type: 'string' },
    cpu: { type: 'string' },
    memory: { type: 'string' },
    'token-secret': { type: 'string' },
    namespace: { type: 'string' },
  },
  async run({ values, context, output }) {
    if (values.target !== 'docker' && values.target !== 'kubernetes') {
      throw new MlscaleError({
        code: 'InvalidSpec',
        message: `mlscale export: --target must be docker or kubernetes${values.target ? `, got '${values.target}'` : ''}.`,
      });
    }
    const project = await openProject(values, context);
    try {
      const names = listValues(values.deployment);
      const deployments = names.length
        ? names.map((name) => findResource(project.config, name, 'deployment'))
        : project.config.resources.filter((resource) => resource.kind === 'deployment');
      const directory = resolve(context.cwd, values.output ?? 'mlscale-export');
      const results: ExportResult[] = [];
      for (const resource of deployments) {
        if (resource.kind !== 'deployment') continue;
        results.push(
          values.target === 'docker'
            ? await exportDocker(resource.spec, directory, packageJson.version)
            : await exportKubernetes(resource.spec, directory, {
                image: values.image ?? `${resource.name}:latest`,
                ...(values.cpu ? { cpu: values.cpu } : {}),
                ...(values.memory ? { memory: values.memory } : {}),
                ...(values['token-secret'] ? { tokenSecret: values['token-secret'] } : {}),
                ...(values.namespace ? { namespace: values.namespace } : {}),
              }),
        );
        output.line(`${resource.name}: wrote ${results.at(-1)?.files.join(', ')}`);
      }
      if (results.length === 0) output.line('No deployments to export.');
      if (output.json) output.result({ ok: true, target: values.target, exports: results });
      return exitCodes.ok;
    } finally {
      await project.close();
    }
  },
});
