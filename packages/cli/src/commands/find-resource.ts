import { MlscaleError } from '@mlscale/core';
import type { ConfiguredResource, MlscaleConfig } from '../config/load-config.js';

/** The deployment or job of the file with this name, or an InvalidSpec error listing the names. */
export function findResource(
  config: MlscaleConfig,
  name: string,
  kind?: ConfiguredResource['kind'],
): ConfiguredResource {
  const found = config.resources.find(
    (resource) => resource.name === name && (!kind || resource.kind === kind),
  );
  if (found) return found;
  const names = config.resources
    .filter((resource) => !kind || resource.kind === kind)
    .map((resource) => resource.name);
  throw new MlscaleError({
    code: 'InvalidSpec',
    message: `No ${kind === 'trainingJob' ? 'training job' : kind === 'deployment' ? 'deployment' : 'deployment or training job'} named '${name}' in ${config.path} (${names.length ? `expected one of ${names.join(', ')}` : 'it declares none'}).`,
  });
}
