import { badArgument, resourceNotFound } from './arm-error.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { matchesFilter } from './faults.js';
import { locationHeaders, startOperation } from './operations.js';
import {
  type ArmResource,
  type JobRecord,
  type JobStep,
  key,
  systemData,
  type WorkspaceRecord,
} from './state.js';

const terminal = new Set(['Completed', 'Failed', 'Canceled']);

/** The job's status now, from its timeline. */
export function jobStatus(job: JobRecord, now: number): string {
  let status = job.steps[0]?.status ?? 'NotStarted';
  for (const step of job.steps) if (step.at <= now) status = step.status;
  return status;
}

function render(job: JobRecord, now: number): ArmResource {
  return { ...job.resource, properties: { ...job.resource.properties, status: jobStatus(job, now) } };
}

/** Routes under `.../workspaces/{ws}/jobs`. */
export function handleJobs(
  context: EmulatorContext,
  scope: { subscription: string; workspace: WorkspaceRecord },
  request: EmulatorRequest,
  rest: string[],
): EmulatorReply | undefined {
  const { workspace } = scope;
  const [id, action] = rest;
  const now = context.now();
  if (id === undefined) {
    return request.method === 'GET'
      ? { status: 200, body: { value: [...workspace.jobs.values()].map((job) => render(job, now)) } }
      : undefined;
  }
  if (action === undefined) {
    if (request.method === 'GET') {
      const job = workspace.jobs.get(key(id));
      if (!job) throw resourceNotFound('job', id);
      return { status: 200, body: render(job, now) };
    }
    if (request.method === 'PUT') return putJob(context, workspace, id, request.body);
    if (request.method === 'DELETE') {
      const job = workspace.jobs.get(key(id));
      if (!job) return { status: 204 };
      workspace.jobs.delete(key(id));
      const operationId = startOperation(context, () => ({ state: 'succeeded' }));
      return { status: 202, headers: locationHeaders(context, scope.subscription, operationId) };
    }
    return undefined;
  }
  if (action === 'cancel' && request.method === 'POST') {
    const job = workspace.jobs.get(key(id));
    if (!job) throw resourceNotFound('job', id);
    if (terminal.has(jobStatus(job, now))) return { status: 200 };
    job.steps = job.steps.filter((step) => step.at <= now);
    job.steps.push(
      { status: 'CancelRequested', at: now },
      { status: 'Canceled', at: now + context.delays.jobStepMs },
    );
    const operationId = startOperation(context, () =>
      jobStatus(job, context.now()) === 'Canceled' ? { state: 'succeeded' } : { state: 'running' },
    );
    return { status: 202, headers: locationHeaders(context, scope.subscription, operationId) };
  }
  return undefined;
}

function putJob(
  context: EmulatorContext,
  workspace: WorkspaceRecord,
  id: string,
  body: unknown,
): EmulatorReply {
  if (typeof body !== 'object' || body === null) throw badArgument('body: expected an object.');
  const properties = (body as { properties?: Record<string, unknown> }).properties;
  if (typeof properties !== 'object' || properties === null) throw badArgument('properties: required.');
  if (properties.jobType !== 'Command')
    throw badArgument('properties.jobType: this emulator runs Command jobs.');
  if (typeof properties.command !== 'string' || properties.command.trim() === '') {
    throw badArgument('properties.command: required.');
  }
  if (typeof properties.environmentId !== 'string' || properties.environmentId === '') {
    throw badArgument('properties.environmentId: required.');
  }
  if (typeof properties.computeId !== 'string' || properties.computeId === '') {
    throw badArgument('properties.computeId: required (api-version 2022-10-01 has no serverless compute).');
  }
  const distribution = properties.distribution as Record<string, unknown> | undefined;
  if (distribution !== undefined) {
    const type = distribution.distributionType;
    if (type !== 'PyTorch' && type !== 'Mpi' && type !== 'TensorFlow') {
      throw badArgument('properties.distribution.distributionType: expected PyTorch, Mpi or TensorFlow.');
    }
    const processes = distribution.processCountPerInstance;
    if (
      processes !== undefined &&
      (typeof processes !== 'number' || !Number.isInteger(processes) || processes < 1)
    ) {
      throw badArgument('properties.distribution.processCountPerInstance: expected a whole number above 0.');
    }
  }
  const existing = workspace.jobs.get(key(id));
  if (existing) {
    if (existing.resource.properties.command !== properties.command) {
      throw badArgument(`A job named '${id}' already exists; a job's command cannot change.`);
    }
    return { status: 200, body: render(existing, context.now()) };
  }
  const now = context.now();
  const step = context.delays.jobStepMs;
  const fails = context.faults.take('failJob', (fault) => matchesFilter(fault.job, id));
  const steps: JobStep[] = [
    { status: 'NotStarted', at: now },
    { status: 'Queued', at: now + step },
    { status: 'Preparing', at: now + 2 * step },
    { status: 'Running', at: now + 3 * step },
  ];
  if (fails) steps.push({ status: 'Failed', at: now + 5 * step });
  else steps.push({ status: 'Finalizing', at: now + 5 * step }, { status: 'Completed', at: now + 6 * step });
  const job: JobRecord = {
    resource: {
      id: `${workspace.resource.id}/jobs/${id}`,
      name: id,
      type: 'Microsoft.MachineLearningServices/workspaces/jobs',
      properties: {
        ...properties,
        experimentName: properties.experimentName ?? 'Default',
        services: {
          Studio: {
            jobServiceType: 'Studio',
            endpoint: `https://ml.azure.com/runs/${id}?wsid=${encodeURIComponent(workspace.resource.id)}`,
          },
        },
      },
      systemData: systemData(new Date(now).toISOString()),
    },
    steps,
  };
  workspace.jobs.set(key(id), job);
  return { status: 201, body: render(job, now) };
}
