import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp } from './clock.js';
import { checkedParent, type EmulatorContext, requiredString, unaryHandlers } from './context.js';
import { matchesFilter, parseFilter } from './filter.js';
import { rpcStatus, statusError } from './grpc-status.js';
import type { JobRunner, StoredCustomJob, Wire } from './vertex-state.js';

const terminal = new Set([
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_EXPIRED',
]);

/** The default job: runs for `jobRunMs` (aborted by cancel or preemption), logging as it goes. */
export function sleepingJobRunner(runMs: () => number): JobRunner {
  return ({ signal, log, attempt }) =>
    new Promise((resolve, reject) => {
      log(`Training started (attempt ${attempt + 1}).`);
      const timer = setTimeout(() => {
        log('Training finished.');
        resolve();
      }, runMs());
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        },
        { once: true },
      );
    });
}

interface WorkerPool {
  replicaCount?: string | number;
  machineSpec?: { machineType?: string };
  containerSpec?: { imageUri?: string; env?: { name: string; value: string }[] };
}

/** The environment Vertex gives replica 0 of pool 0: the container's env, AIP_* dirs and CLUSTER_SPEC. */
function primaryEnvironment(job: StoredCustomJob): Record<string, string> {
  const spec = job.jobSpec as {
    workerPoolSpecs?: WorkerPool[];
    baseOutputDirectory?: { outputUriPrefix?: string };
  };
  const pools = spec.workerPoolSpecs ?? [];
  const environment: Record<string, string> = {};
  for (const variable of pools[0]?.containerSpec?.env ?? []) environment[variable.name] = variable.value;
  const base = spec.baseOutputDirectory?.outputUriPrefix?.replace(/\/?$/, '/');
  if (base) {
    environment.AIP_MODEL_DIR = `${base}model/`;
    environment.AIP_CHECKPOINT_DIR = `${base}checkpoints/`;
    environment.AIP_TENSORBOARD_LOG_DIR = `${base}logs/`;
  }
  const id = job.name.split('/').at(-1)!;
  environment.CLOUD_ML_JOB_ID = id;
  environment.CLUSTER_SPEC = JSON.stringify({
    cluster: {
      worker_pools: pools.map((pool, index) => ({
        index,
        replicas: Array.from(
          { length: Number(pool.replicaCount ?? 1) },
          (_, replica) => `workerpool${index}-${id}-${replica}:2222`,
        ),
      })),
    },
    environment: 'cloud',
    task: { worker_pool_index: 0, replica_index: 0, trial: '' },
  });
  return environment;
}

export function jobService(context: EmulatorContext): UntypedServiceImplementation {
  const { state } = context;
  const controllers = new Map<string, AbortController>();

  function transition(job: StoredCustomJob, next: string): void {
    job.state = next;
    job.updateTime = timestamp(context.clock.now());
    if (next === 'JOB_STATE_RUNNING' && !job.startTime) job.startTime = job.updateTime;
    if (terminal.has(next)) job.endTime = job.updateTime;
    state.jobHistory.get(job.name)?.push(next);
  }

  function log(job: StoredCustomJob, message: string): void {
    const time = new Date();
    state.jobLogs.get(job.name)?.push({ time, message });
    const [, project] = job.name.split('/');
    context.logs.write({
      logName: `projects/${project}/logs/workerpool0-0`,
      resource: {
        type: 'ml_job',
        labels: { job_id: job.name.split('/').at(-1)!, project_id: project!, task_name: 'workerpool0-0' },
      },
      time,
      textPayload: message,
      severity: /fail|error|exited/i.test(message) ? 'ERROR' : 'INFO',
    });
  }

  function run(job: StoredCustomJob, attempt: number): void {
    if (terminal.has(job.state) || job.state === 'JOB_STATE_CANCELLING') return;
    transition(job, 'JOB_STATE_RUNNING');
    const controller = new AbortController();
    controllers.set(job.name, controller);
    const spot = (job.jobSpec.scheduling as { strategy?: string } | undefined)?.strategy === 'SPOT';
    let preempted = false;
    if (spot && (context.faults.spotPreemptions ?? 0) > 0) {
      context.faults.spotPreemptions! -= 1;
      // Preempted halfway through the run; Vertex restarts the job on new capacity.
      context.scheduler.after(Math.max(1, context.delays.jobRunMs / 2), () => {
        preempted = true;
        log(job, 'The spot VM was preempted; the job restarts on new capacity.');
        controller.abort();
      });
    }
    const failure = context.faults.failJobs;
    if (failure) {
      failure.count -= 1;
      if (failure.count <= 0) delete context.faults.failJobs;
    }
    context
      .jobRunner({
        job,
        environment: primaryEnvironment(job),
        attempt,
        signal: controller.signal,
        log: (message) => log(job, message),
      })
      .then(() => {
        if (failure) throw new Error(failure.message);
      })
      .then(
        () => {
          if (job.state === 'JOB_STATE_RUNNING') transition(job, 'JOB_STATE_SUCCEEDED');
        },
        (error: unknown) => {
          if (preempted && job.state === 'JOB_STATE_RUNNING') {
            transition(job, 'JOB_STATE_PENDING');
            context.scheduler.after(context.delays.jobTransitionMs, () => run(job, attempt + 1));
            return;
          }
          if (job.state !== 'JOB_STATE_RUNNING') return; // cancelled meanwhile
          const message = error instanceof Error ? error.message : String(error);
          log(job, message);
          job.error = rpcStatus('INTERNAL', message);
          transition(job, 'JOB_STATE_FAILED');
        },
      )
      .finally(() => controllers.delete(job.name));
  }

  return unaryHandlers(context, 'JobService', {
    CreateCustomJob(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const input = (request.customJob ?? {}) as Wire;
      if (typeof input.displayName !== 'string' || !input.displayName) {
        throw statusError('INVALID_ARGUMENT', 'Field "custom_job.display_name" is required.');
      }
      const spec = (input.jobSpec ?? {}) as { workerPoolSpecs?: WorkerPool[] };
      const pools = spec.workerPoolSpecs ?? [];
      if (pools.length === 0)
        throw statusError('INVALID_ARGUMENT', 'Field "custom_job.job_spec.worker_pool_specs" is required.');
      pools.forEach((pool, index) => {
        const path = `custom_job.job_spec.worker_pool_specs[${index}]`;
        if (!pool.machineSpec?.machineType)
          throw statusError('INVALID_ARGUMENT', `Field "${path}.machine_spec.machine_type" is required.`);
        if (!pool.containerSpec?.imageUri)
          throw statusError('INVALID_ARGUMENT', `Field "${path}.container_spec.image_uri" is required.`);
      });
      if (Number(pools[0]!.replicaCount ?? 0) !== 1) {
        throw statusError('INVALID_ARGUMENT', 'The first worker pool (the chief) must have replica_count 1.');
      }
      const now = timestamp(context.clock.now());
      const job: StoredCustomJob = {
        ...input,
        name: `${parent}/customJobs/${context.nextId()}`,
        displayName: input.displayName,
        jobSpec: input.jobSpec as Wire,
        labels: (input.labels as Record<string, string>) ?? {},
        state: 'JOB_STATE_QUEUED',
        createTime: now,
        updateTime: now,
      };
      state.customJobs.set(job.name, job);
      state.jobHistory.set(job.name, ['JOB_STATE_QUEUED']);
      state.jobLogs.set(job.name, []);
      context.scheduler.after(context.delays.jobTransitionMs, () => {
        if (job.state !== 'JOB_STATE_QUEUED') return;
        transition(job, 'JOB_STATE_PENDING');
        context.scheduler.after(context.delays.jobTransitionMs, () => run(job, 0));
      });
      return job;
    },
    GetCustomJob(request) {
      const name = requiredString(request, 'name');
      const job = state.customJobs.get(name);
      if (!job) throw statusError('NOT_FOUND', `CustomJob "${name}" not found.`);
      return job;
    },
    ListCustomJobs(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const clauses = parseFilter(request.filter as string | undefined);
      if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
      const customJobs = [...state.customJobs.values()].filter(
        (job) => job.name.startsWith(`${parent}/`) && matchesFilter(clauses, job),
      );
      return { customJobs, nextPageToken: '' };
    },
    CancelCustomJob(request) {
      const name = requiredString(request, 'name');
      const job = state.customJobs.get(name);
      if (!job) throw statusError('NOT_FOUND', `CustomJob "${name}" not found.`);
      if (terminal.has(job.state)) {
        throw statusError('FAILED_PRECONDITION', `CustomJob "${name}" is already in state ${job.state}.`);
      }
      transition(job, 'JOB_STATE_CANCELLING');
      controllers.get(name)?.abort();
      context.scheduler.after(context.delays.jobTransitionMs, () => {
        job.error = rpcStatus('CANCELLED', 'CANCELED');
        log(job, 'The job was cancelled.');
        transition(job, 'JOB_STATE_CANCELLED');
      });
      return {};
    },
  });
}
