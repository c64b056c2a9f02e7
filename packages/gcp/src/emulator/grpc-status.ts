import { status as grpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';

/** The gRPC status codes the emulator answers with. */
export type StatusName =
  | 'CANCELLED'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

/** A gRPC error, as a handler passes it to its callback. */
export function statusError(name: StatusName, details: string): ServiceError {
  const error = new Error(details) as ServiceError;
  error.code = grpcStatus[name];
  error.details = details;
  error.metadata = new Metadata();
  return error;
}

/** Whether `error` already carries a gRPC status code. */
export function isStatusError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && typeof (error as ServiceError).code === 'number';
}

/** A `google.rpc.Status` for an operation's or job's `error` field. */
export function rpcStatus(name: StatusName, message: string): { code: number; message: string } {
  return { code: grpcStatus[name], message };
}
