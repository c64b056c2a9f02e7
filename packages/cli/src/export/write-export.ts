import { copyFile, cp, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DeploymentSpec } from '@mlscale/core';
import { stringify } from 'yaml';
import { dockerignore, renderDockerfile } from './dockerfile.js';
import { isFolder, localModelPath } from './export-model.js';
import {
  type KubernetesObject,
  type KubernetesOptions,
  renderKubernetesManifests,
} from './kubernetes-manifests.js';

/** The files one export wrote. */
export interface ExportResult {
  deployment: string;
  files: string[];
  /** The Kubernetes objects, for --json. */
  objects?: KubernetesObject[];
}

/** Writes `<directory>/<name>/Dockerfile`, `.dockerignore` and `model/` (the build context). */
export async function exportDocker(
  spec: DeploymentSpec,
  directory: string,
  version: string,
): Promise<ExportResult> {
  const model = localModelPath(spec);
  const context = join(directory, spec.name);
  await mkdir(join(context, 'model'), { recursive: true });
  if (isFolder(model)) await cp(model, join(context, 'model'), { recursive: true });
  else await copyFile(model, join(context, 'model', basename(model)));
  await writeFile(join(context, 'Dockerfile'), renderDockerfile(spec, { version }), 'utf8');
  await writeFile(join(context, '.dockerignore'), dockerignore, 'utf8');
  return {
    deployment: spec.name,
    files: [join(context, 'Dockerfile'), join(context, '.dockerignore'), join(context, 'model')],
  };
}

/** Writes `<directory>/<name>.yaml`: the objects as one multi-document YAML file for `kubectl apply -f`. */
export async function exportKubernetes(
  spec: DeploymentSpec,
  directory: string,
  options: KubernetesOptions,
): Promise<ExportResult> {
  const objects = renderKubernetesManifests(spec, options);
  await mkdir(directory, { recursive: true });
  const path = join(directory, `${spec.name}.yaml`);
  const header = `# Kubernetes manifests for mlscale deployment '${spec.name}', written by \`mlscale export --target kubernetes\`.\n`;
  await writeFile(
    path,
    header + objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n'),
    'utf8',
  );
  return { deployment: spec.name, files: [path], objects };
}
