import type { ServiceError } from '@grpc/grpc-js';
import { statusError } from './grpc-status.js';

/** Faults a test can inject at any RPC, each answered the way Google answers it. */
export type InjectedFault = 'accessDenied' | 'serverError' | 'throttling';

/** Injected faults, per RPC method name (`DeployModel`), each for the next `count` calls. */
export interface FaultQueue {
  inject(fault: InjectedFault, method: string, count: number): void;
  clear(): void;
  /** The error the call gets, if a fault is armed for its method (and counts it down). */
  take(method: string, request: Record<string, unknown>): ServiceError | undefined;
}

/** The IAM permission each RPC needs (aiplatform's, monitoring's and logging's). */
const permissions: Record<string, string> = {
  CreateEndpoint: 'aiplatform.endpoints.create',
  GetEndpoint: 'aiplatform.endpoints.get',
  ListEndpoints: 'aiplatform.endpoints.list',
  UpdateEndpoint: 'aiplatform.endpoints.update',
  DeleteEndpoint: 'aiplatform.endpoints.delete',
  DeployModel: 'aiplatform.endpoints.deploy',
  UndeployModel: 'aiplatform.endpoints.undeploy',
  MutateDeployedModel: 'aiplatform.endpoints.update',
  Predict: 'aiplatform.endpoints.predict',
  UploadModel: 'aiplatform.models.upload',
  GetModel: 'aiplatform.models.get',
  ListModels: 'aiplatform.models.list',
  ListModelVersions: 'aiplatform.models.list',
  DeleteModel: 'aiplatform.models.delete',
  GetOperation: 'aiplatform.operations.get',
  ListOperations: 'aiplatform.operations.list',
  CreateCustomJob: 'aiplatform.customJobs.create',
  GetCustomJob: 'aiplatform.customJobs.get',
  ListCustomJobs: 'aiplatform.customJobs.list',
  CancelCustomJob: 'aiplatform.customJobs.cancel',
  ListTimeSeries: 'monitoring.timeSeries.list',
  ListLogEntries: 'logging.logEntries.list',
};

/** The resource a request is about, as IAM names it in a refusal. */
function resourceOf(request: Record<string, unknown>): string {
  for (const field of ['name', 'endpoint', 'parent']) {
    const value = request[field];
    if (typeof value === 'string' && value) return value;
  }
  const nested = request.endpoint as { name?: unknown } | undefined;
  return typeof nested?.name === 'string' ? nested.name : 'projects/-';
}

/**
 * The answers: PERMISSION_DENIED (7) worded as IAM words it ("Permission '…' denied on resource '…'
 * (or it may not exist)."), INTERNAL (13) as Google's front ends answer a server error, and
 * RESOURCE_EXHAUSTED (8) as a per-minute quota refusal.
 */
function faultError(fault: InjectedFault, method: string, request: Record<string, unknown>): ServiceError {
  if (fault === 'accessDenied') {
    const permission = permissions[method] ?? `aiplatform.${method}`;
    return statusError(
      'PERMISSION_DENIED',
      `Permission '${permission}' denied on resource '//aiplatform.googleapis.com/${resourceOf(request)}' (or it may not exist).`,
    );
  }
  if (fault === 'throttling') {
    return statusError(
      'RESOURCE_EXHAUSTED',
      `Quota exceeded for quota metric 'aiplatform.googleapis.com/${method.toLowerCase()}_requests' and limit 'requests per minute per region' (injected by the Vertex emulator).`,
    );
  }
  return statusError('INTERNAL', 'Internal error encountered.');
}

export function createFaultQueue(): FaultQueue {
  const armed: { fault: InjectedFault; method: string; remaining: number }[] = [];
  return {
    inject(fault, method, count) {
      armed.push({ fault, method, remaining: count });
    },
    clear() {
      armed.length = 0;
    },
    take(method, request) {
      const entry = armed.find((candidate) => candidate.method === method && candidate.remaining > 0);
      if (!entry) return undefined;
      entry.remaining -= 1;
      if (entry.remaining <= 0) armed.splice(armed.indexOf(entry), 1);
      return faultError(entry.fault, method, request);
    },
  };
}
