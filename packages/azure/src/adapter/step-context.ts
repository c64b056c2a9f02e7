import type { DeploymentRecord, SecretMemory } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import type { DeploymentObservation } from './deployment-observation.js';

/** What one reconcile step of one deployment works with: the record, what Azure has, and the means. */
export interface StepContext {
  context: AdapterContext;
  /** The deployment's name, which is its endpoint's. */
  name: string;
  record: DeploymentRecord;
  observation: DeploymentObservation;
  /** Secret values this process has seen (specs are recorded sealed). */
  secrets: SecretMemory;
  signal: AbortSignal | undefined;
}

/** Whether a part of the step found Azure as asked (`ready`) or started or awaits an operation. */
export type Readiness = 'ready' | 'progressing';
