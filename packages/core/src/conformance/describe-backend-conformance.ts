import { afterAll, beforeAll, describe } from 'vitest';
import { describeChanges } from './conformance-changes.js';
import { createConformanceContext } from './conformance-context.js';
import { describeFaultSweeps } from './conformance-faults.js';
import { describeLifecycle } from './conformance-lifecycle.js';
import type { BackendConformanceOptions } from './conformance-options.js';
import { describeSecrets } from './conformance-secrets.js';

export type { BackendConformanceOptions, ConformanceSetup } from './conformance-options.js';

/**
 * The behaviour every mlscale backend shares, as one vitest suite, the proof of the convergence
 * contract (see `DeploymentOperationsV1`): every client method; validation and capability checks before
 * any backend call; `wait: false`, timeouts and aborts; autoscaling on and off, merged and whole
 * updates; secrets kept out of everything but the container; and, given the cloud's view
 * (`ConformanceCloud`), a fault of each kind and a crash at each mutating request of a deploy and of an
 * update, each followed by a re-run that converges with nothing left behind.
 */
export function describeBackendConformance(options: BackendConformanceOptions): void {
  const context = createConformanceContext(options);
  describe(`backend conformance: ${options.name}`, () => {
    beforeAll(() => context.start(), context.timeout);
    afterAll(() => context.stop(), context.timeout);
    describeLifecycle(context);
    describeChanges(context);
    describeSecrets(context);
    describeFaultSweeps(context);
  });
}
