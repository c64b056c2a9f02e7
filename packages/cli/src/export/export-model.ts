import { existsSync, statSync } from 'node:fs';
import { type DeploymentSpec, MlscaleError } from '@mlscale/core';

/** The local model file or folder a deployment serves, which the image copies in. */
export function localModelPath(spec: DeploymentSpec): string {
  const { model } = spec;
  if (!('uri' in model)) {
    throw new MlscaleError({
      code: 'Unsupported',
      message: `Deployment '${spec.name}' serves registered model '${model.name}': export needs its file; set model.uri to a local .onnx path.`,
    });
  }
  const path = model.uri.startsWith('file://') ? new URL(model.uri).pathname : model.uri;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new MlscaleError({
      code: 'Unsupported',
      message: `Deployment '${spec.name}' serves ${model.uri}: export copies the model into the image, so download it and point model.uri at the local file.`,
    });
  }
  if (!existsSync(path)) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `Deployment '${spec.name}': model file ${path} does not exist.`,
    });
  }
  return path;
}

/** Whether the model path is a folder (copied whole) or one file. */
export function isFolder(path: string): boolean {
  return statSync(path).isDirectory();
}
