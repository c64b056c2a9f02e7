import { AwsServiceError } from './aws-service-error.js';
import type { EmulatorContext, JsonObject } from './emulator-context.js';
import type { FaultSpec } from './emulator-options.js';

/** One request, as fault injection sees it. */
export interface FaultTarget {
  operation: string;
  /** The IAM action prefix of the service (`sagemaker`, `application-autoscaling`, ...). */
  actionPrefix: string;
  input: JsonObject;
  /** The service's throttling answer: CloudWatch's query-compatible `Throttling`, else `ThrottlingException`. */
  throttling: { type: string; status: number };
}

/**
 * HTTP statuses of the errors every AWS service may answer ("Common Errors" in each API reference):
 * AccessDeniedException, ThrottlingException and ValidationError are 400, InternalFailure 500,
 * ServiceUnavailable 503; so are the modelled client errors below (quotas, parameter refusals, an
 * unreadable body). A fault of another type without a status answers 500.
 */
const commonStatuses: Record<string, number> = {
  AccessDeniedException: 400,
  ThrottlingException: 400,
  Throttling: 400,
  ValidationException: 400,
  ValidationError: 400,
  ResourceLimitExceeded: 400,
  LimitExceededException: 400,
  LimitExceededFault: 400,
  InvalidParameterValueException: 400,
  InvalidParameterCombinationException: 400,
  MissingRequiredParameterException: 400,
  SerializationException: 400,
  InternalFailure: 500,
  ServiceUnavailable: 503,
};

const defaultMessages: Record<string, string> = {
  InternalFailure: 'An internal error occurred. Please try again.',
  ServiceUnavailable: 'Service is unavailable. Please try again.',
  ThrottlingException: 'Rate exceeded',
  Throttling: 'Rate exceeded',
};

function matches(fault: { operation: string }, operation: string): boolean {
  return fault.operation === operation || fault.operation === '*';
}

/** The ARN an IAM refusal names: the resource the request is about, or `*`. */
function resourceOf(context: EmulatorContext, target: FaultTarget): string {
  const { input } = target;
  const named = (field: string) => (typeof input[field] === 'string' ? (input[field] as string) : undefined);
  const sageMaker: [string, string][] = [
    ['EndpointName', 'endpoint'],
    ['EndpointConfigName', 'endpoint-config'],
    ['ModelName', 'model'],
    ['TrainingJobName', 'training-job'],
    ['ModelPackageGroupName', 'model-package-group'],
  ];
  if (target.actionPrefix === 'sagemaker') {
    for (const [field, kind] of sageMaker) {
      const name = named(field);
      if (name) return context.arn('sagemaker', `${kind}/${name.toLowerCase()}`);
    }
  }
  if (target.actionPrefix === 'cloudwatch' && named('AlarmName'))
    return context.arn('cloudwatch', `alarm:${named('AlarmName')}`);
  if (target.actionPrefix === 'logs' && named('logGroupName'))
    return context.arn('logs', `log-group:${named('logGroupName')}`);
  return '*';
}

/** IAM's refusal, worded as AWS words it for a role without the permission. */
export function accessDenied(context: EmulatorContext, target: FaultTarget): AwsServiceError {
  const action = `${target.actionPrefix}:${target.operation}`;
  return new AwsServiceError(
    'AccessDeniedException',
    `User: arn:aws:sts::${context.accountId}:assumed-role/mlscale-emulator/emulator-session is not authorized to perform: ${action} on resource: ${resourceOf(context, target)} because no identity-based policy allows the ${action} action`,
    400,
  );
}

function errorFor(
  context: EmulatorContext,
  fault: Extract<FaultSpec, { kind: 'error' | 'accessDenied' }>,
  target: FaultTarget,
) {
  if (fault.kind === 'accessDenied') {
    const denied = accessDenied(context, target);
    return fault.message ? new AwsServiceError(denied.type, fault.message, denied.status) : denied;
  }
  const type = fault.type ?? (fault.status === 503 ? 'ServiceUnavailable' : 'InternalFailure');
  const status = fault.status ?? commonStatuses[type] ?? 500;
  if (fault.message !== undefined) return new AwsServiceError(type, fault.message, status);
  if (type === 'AccessDeniedException')
    return new AwsServiceError(type, accessDenied(context, target).message, status);
  return new AwsServiceError(
    type,
    defaultMessages[type] ??
      (status >= 500 ? defaultMessages.InternalFailure! : `${type} (injected by the emulator).`),
    status,
  );
}

/**
 * Applies the faults in force to one request: first every matching latency, then the first matching
 * throttle, error or access denial, which is thrown. Counted faults are used up and then removed.
 */
export async function applyFaults(context: EmulatorContext, target: FaultTarget): Promise<void> {
  for (const fault of context.faults) {
    if (fault.kind !== 'latency' || !matches(fault, target.operation)) continue;
    if (fault.count !== undefined) {
      if (fault.count <= 0) continue;
      fault.count--;
    }
    await new Promise((resolve) => setTimeout(resolve, fault.ms));
  }
  let failure: AwsServiceError | undefined;
  for (const fault of context.faults) {
    if (fault.kind !== 'throttle' && fault.kind !== 'error' && fault.kind !== 'accessDenied') continue;
    if (!matches(fault, target.operation) || fault.count <= 0) continue;
    fault.count--;
    failure =
      fault.kind === 'throttle'
        ? new AwsServiceError(target.throttling.type, 'Rate exceeded', target.throttling.status)
        : errorFor(context, fault, target);
    break;
  }
  context.faults = context.faults.filter(
    (fault) =>
      !(
        (fault.kind === 'throttle' || fault.kind === 'error' || fault.kind === 'accessDenied') &&
        fault.count <= 0
      ) && !(fault.kind === 'latency' && fault.count === 0),
  );
  if (failure) throw failure;
}
