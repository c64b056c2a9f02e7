import type { AdapterContext } from './adapter-context.js';

/** The region new endpoints go to: the setting, else the workspace's own (read once per backend). */
export function locationResolver(context: AdapterContext): (signal?: AbortSignal) => Promise<string> {
  let location: Promise<string> | undefined;
  return (signal) => {
    if (context.settings.location) return Promise.resolve(context.settings.location);
    location ??= context
      .call(
        'Reading the workspace',
        (clients) =>
          clients.machineLearning.workspaces.get(context.settings.resourceGroup, context.settings.workspace, {
            abortSignal: signal,
          }),
        signal,
      )
      .then((workspace) => workspace.location ?? 'eastus')
      .catch((error: unknown) => {
        location = undefined;
        throw error;
      });
    return location;
  };
}
