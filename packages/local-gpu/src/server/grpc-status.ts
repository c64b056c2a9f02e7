import { redactText } from '@mlscale/core';
import { InferenceError } from '../deployments/inference-types.js';

/** gRPC status codes (the numbers are fixed by the gRPC specification, as in `@grpc/grpc-js`'s `status`). */
export const grpcCodes = {
  invalidArgument: 3,
  notFound: 5,
  resourceExhausted: 8,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
} as const;

/** What a failed call answers: a code, the message, and retry advice in the trailing metadata. */
export interface GrpcFailure {
  code: number;
  details: string;
  retryAfterSeconds?: number;
}

/** The HTTP status an InferenceError carries, as the gRPC code a V2 gRPC client expects. */
export function grpcCodeOf(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
    case 422:
      return grpcCodes.invalidArgument;
    case 401:
      return grpcCodes.unauthenticated;
    case 404:
      return grpcCodes.notFound;
    // Too large a request is what grpc-js itself answers RESOURCE_EXHAUSTED for.
    case 413:
    case 429:
      return grpcCodes.resourceExhausted;
    case 503:
      return grpcCodes.unavailable;
    default:
      return grpcCodes.internal;
  }
}

/** Any error as a call's failure; anything unexpected is INTERNAL, with secrets masked as on HTTP. */
export function grpcFailureOf(error: unknown): GrpcFailure {
  if (error instanceof InferenceError) {
    return {
      code: grpcCodeOf(error.status),
      details: redactText(error.message),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: grpcCodes.internal, details: redactText(`internal error: ${message}`) };
}

/** The HTTP status a failure stands for, for the request observer (monitoring counts by HTTP status). */
export function httpStatusOf(error: unknown): number {
  return error instanceof InferenceError ? error.status : 500;
}
