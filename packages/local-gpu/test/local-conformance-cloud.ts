import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConformanceCloud, ConformanceFault } from '@mlscale/core/conformance';
import type { DeploymentEffect, DeploymentEffectRunner, LocalGpuBackend } from '../src/index.js';

/** The errors the system gives for each fault: what fs and net calls throw, classified by the backend. */
const systemErrors: Record<ConformanceFault, { code: string; errno: number; text: string }> = {
  accessDenied: { code: 'EACCES', errno: -13, text: 'permission denied' },
  serverError: { code: 'EIO', errno: -5, text: 'i/o error' },
  throttling: { code: 'EMFILE', errno: -24, text: 'too many open files' },
};

/**
 * The local backend's side as the conformance suite sees a cloud: the effects that can fail (record
 * writes and removals under the state directory, server starts, rollout starts) are its requests, and a
 * fault answers one with the system error a real failure gives (EACCES, EIO, EMFILE), thrown where the
 * real one would be. Inventory comes from the backend's runtimes and its state directory.
 */
export function createLocalConformanceCloud(): {
  /** Give it to `localGpu({ deploymentEffects })`. */
  runEffect: DeploymentEffectRunner;
  /** The cloud view over that backend. */
  view(backend: LocalGpuBackend): ConformanceCloud;
} {
  const requests: DeploymentEffect[] = [];
  const faults: { fault: ConformanceFault; operation: string; remaining: number }[] = [];
  const listeners = new Set<(operation: string) => void>();

  const runEffect: DeploymentEffectRunner = async (effect, deployment, run) => {
    requests.push(effect);
    const armed = faults.find((entry) => entry.operation === effect && entry.remaining > 0);
    if (armed) {
      armed.remaining -= 1;
      const { code, errno, text } = systemErrors[armed.fault];
      throw Object.assign(new Error(`${code}: ${text}, ${effect} ${deployment}`), { code, errno });
    }
    const result = await run();
    for (const listener of [...listeners]) listener(effect);
    return result;
  };

  const view = (backend: LocalGpuBackend): ConformanceCloud => {
    const recordsDirectory = join(backend.root, 'deployments');
    return {
      requests: () => [...requests],
      resetRequests: () => {
        requests.length = 0;
      },
      isMutating: () => true,
      injectFault(fault, operation, count) {
        faults.push({ fault, operation, remaining: count });
      },
      clearFaults() {
        faults.length = 0;
      },
      onRequest(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async resources(name) {
        const runtime = backend.deployments.runtime(name);
        const status = runtime?.status();
        const versions = (status?.details?.versions ?? []) as { version: string }[];
        return [
          ...(existsSync(backend.deployments.recordPath(name)) ? [`record/${name}`] : []),
          ...(runtime ? [`server/${name}`] : []),
          ...versions.map((entry) => `model-version/${name}/${entry.version}`),
          ...(status?.autoscaling ? [`autoscaling/${name}`] : []),
        ];
      },
      async autoscaling(name) {
        const policy = backend.deployments.runtime(name)?.status().autoscaling;
        return policy ? { minReplicas: policy.minReplicas, maxReplicas: policy.maxReplicas } : undefined;
      },
      // The local server runs no container and passes `environment` to nothing.
      containerEnvironment: async () => undefined,
      async dump() {
        if (!existsSync(recordsDirectory)) return '';
        return readdirSync(recordsDirectory)
          .map((file) => readFileSync(join(recordsDirectory, file), 'utf8'))
          .join('\n');
      },
    };
  };
  return { runEffect, view };
}
