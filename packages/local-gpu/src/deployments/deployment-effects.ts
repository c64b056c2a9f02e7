/**
 * The side effects of the local backend's deployments that can fail on their own, named as a cloud
 * names its mutating operations: writing and removing the record under the state directory, starting a
 * deployment's server (model load, device choice, port bind), and starting a rollout (the new model's
 * load and its version). Reads and what follows from these (replicas, traffic steps) are not listed.
 */
export type DeploymentEffect = 'WriteRecord' | 'DeleteRecord' | 'StartServer' | 'StartRollout';

/**
 * Runs one side effect of `deployment`. The default runs it as it is; a test passes its own to log the
 * effects and to answer some with the errors the system gives (EACCES from the state directory, EIO,
 * EMFILE), as the cloud emulators do with their APIs' own error answers.
 */
export type DeploymentEffectRunner = <T>(
  effect: DeploymentEffect,
  deployment: string,
  run: () => Promise<T>,
) => Promise<T>;

/** Runs each effect as it is. */
export const runEffectDirectly: DeploymentEffectRunner = (_effect, _deployment, run) => run();
