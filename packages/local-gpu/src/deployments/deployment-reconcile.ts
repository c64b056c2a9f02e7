import { type DeploymentStatus, MlscaleError } from '@mlscale/core';
import {
  cloudCall,
  type DeploymentRecord,
  reconcileStep,
  recordPhase,
  type StepOutcome,
} from '@mlscale/core/provider-utils';
import type { DeploymentEffectRunner } from './deployment-effects.js';
import type { DeploymentRecordStore, StoredDeployment } from './deployment-record-store.js';
import {
  createDeploymentRuntime,
  type DeploymentEnvironment,
  type DeploymentRuntime,
} from './deployment-runtime.js';
import { checkDeploymentSpec } from './deployment-spec-checks.js';
import type { LocalSecrets } from './local-secrets.js';
import { locateServer } from './serving-process.js';
import { classifySystemError } from './system-errors.js';

/** What reconciling a deployment of this backend needs. */
export interface ReconcileContext {
  store: DeploymentRecordStore;
  /** The runtimes this backend runs, by deployment name. */
  runtimes: Map<string, DeploymentRuntime>;
  /** This backend's id, as its record entries name it. */
  backend: string;
  secrets: LocalSecrets;
  environment: DeploymentEnvironment;
  runEffect: DeploymentEffectRunner;
  status(name: string, signal: AbortSignal | undefined): Promise<DeploymentStatus | undefined>;
}

/** What one step reads: the stored record, and the runtime here if there is one. */
interface Observation {
  stored: StoredDeployment;
  runtime: DeploymentRuntime | undefined;
}

/**
 * One reconcile step of a local deployment (core's `reconcileStep`): start its server here when none
 * serves it, write down which process serves it, hand a new desired spec to the running runtime (which
 * applies it in place or rolls it out in the background), and report convergence once the runtime runs
 * the desired spec. A rolled-back rollout, or replicas that would not start, is a refusal: the record
 * goes back to the serving spec with the reason. Deletion stops the server, then removes the record.
 */
export function reconcileDeployment(
  context: ReconcileContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<DeploymentStatus | undefined> {
  const { store, runtimes } = context;
  return reconcileStep<Observation>(
    {
      provider: 'local',
      name,
      async observe(stepSignal) {
        const stored = await store.read(name, stepSignal);
        const runtime = runtimes.get(name);
        if (!stored) {
          // Its record was removed by hand: nothing asks for this server any more.
          if (runtime) {
            runtimes.delete(name);
            await runtime.close();
          }
          return undefined;
        }
        return { record: stored.record, observation: { stored, runtime } };
      },
      advance: (record, observation, stepSignal) => advance(context, name, record, observation, stepSignal),
      async save(record, { stored }, stepSignal) {
        // Read again: the step may have written which process serves.
        const current = (await store.read(name, stepSignal)) ?? stored;
        await store.write(name, { ...current, record }, stepSignal);
      },
      status: (stepSignal) => context.status(name, stepSignal),
    },
    signal,
  );
}

async function advance(
  context: ReconcileContext,
  name: string,
  record: DeploymentRecord,
  { stored, runtime }: Observation,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  const { runtimes } = context;
  if (record.deleting) return advanceDeletion(context, name, stored, runtime, signal);
  if (!runtime) return startHere(context, name, record, stored, signal);
  const seen = runtime.observe();
  if (seen.phase === 'failed') {
    // The first version's replicas did not start: free the port, report the refusal (Failed).
    runtimes.delete(name);
    await runtime.close();
    throw refusal(seen.reason ?? 'the server failed');
  }
  if (seen.phase === 'closed') {
    runtimes.delete(name);
    return 'progressing';
  }
  await recordServingProcess(context, name, stored, runtime, signal);
  if (seen.phase !== 'serving') return 'progressing';
  if (seen.targetHash === record.desiredHash) {
    if (seen.refusal) throw refusal(seen.refusal.reason);
    return seen.runsTarget ? 'converged' : 'progressing';
  }
  const runnable = context.secrets.runnable(record.desired);
  if ('missing' in runnable) return blockedOnSecrets(runnable.missing);
  const { spec, local } = checkDeploymentSpec(runnable.spec, context.environment.defaults);
  await cloudCall({ what: `Changing deployment '${name}'`, signal, classify: classifySystemError }, () =>
    runtime.apply(spec, local),
  );
  const after = runtime.observe();
  return after.targetHash === record.desiredHash && after.runsTarget ? 'converged' : 'progressing';
}

/** No runtime here: start one, unless another process serves the deployment or it failed as it is. */
async function startHere(
  context: ReconcileContext,
  name: string,
  record: DeploymentRecord,
  stored: StoredDeployment,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  const where = locateServer(stored.process, { backend: context.backend });
  if (where.kind === 'elsewhere') return servedElsewhere(where.process.pid, where.process.url);
  // A first deployment that failed stays Failed until it is deployed again (which clears the failure).
  if (recordPhase(record) === 'creating' && record.failure?.specHash === record.desiredHash)
    return 'progressing';
  const runnable = context.secrets.runnable(record.desired);
  if ('missing' in runnable) return blockedOnSecrets(runnable.missing);
  const { spec, local } = checkDeploymentSpec(runnable.spec, context.environment.defaults);
  const runtime = await cloudCall(
    { what: `Starting the server of deployment '${name}'`, signal, classify: classifySystemError },
    () =>
      context.runEffect('StartServer', name, async () => {
        const started = await createDeploymentRuntime(spec, local, context.environment);
        // Held before anything else can fail, so an abort or a failed write below leaks no server.
        context.runtimes.set(name, started);
        return started;
      }),
  );
  await recordServingProcess(context, name, stored, runtime, signal);
  return 'progressing';
}

/** Writes down that this process serves the deployment (pid and url), unless the record says so already. */
async function recordServingProcess(
  context: ReconcileContext,
  name: string,
  stored: StoredDeployment,
  runtime: DeploymentRuntime,
  signal: AbortSignal | undefined,
): Promise<void> {
  const entry = stored.process;
  const current = entry && !entry.stoppedAt && entry.pid === process.pid && entry.backend === context.backend;
  if (current && entry.url === runtime.url) return;
  await context.store.write(
    name,
    {
      ...stored,
      process: { pid: process.pid, backend: context.backend, url: runtime.url, startedAt: new Date() },
    },
    signal,
  );
}

/** Deletion: stop the server here (draining in the background), then remove the record. */
async function advanceDeletion(
  context: ReconcileContext,
  name: string,
  stored: StoredDeployment,
  runtime: DeploymentRuntime | undefined,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  if (runtime) {
    if (runtime.observe().phase !== 'closed') {
      runtime.close().catch((error: unknown) =>
        context.environment.log(`deployment ${name}: stopping its server failed`, {
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      return 'progressing';
    }
    context.runtimes.delete(name);
  } else {
    const where = locateServer(stored.process, { backend: context.backend });
    if (where.kind === 'elsewhere') return servedElsewhere(where.process.pid, where.process.url);
  }
  await context.store.remove(name, signal);
  return 'progressing';
}

/** A change the runtime did not make: not retryable, so reconcileStep abandons it back to the serving spec. */
function refusal(reason: string): MlscaleError {
  return new MlscaleError({ code: 'BackendFailure', provider: 'local', retryable: false, message: reason });
}

function servedElsewhere(pid: number, url: string): StepOutcome {
  return {
    blocked: `process ${pid} serves it at ${url}; change or delete it from that process, or stop that process first`,
  };
}

function blockedOnSecrets(paths: string[]): StepOutcome {
  return {
    blocked: `the record keeps only seals of ${paths.join(', ')}, and this process was not given their values; deploy or update it with them`,
  };
}
