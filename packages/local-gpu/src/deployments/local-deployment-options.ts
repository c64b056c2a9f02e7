import { parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** `providerOptions.local` of a deployment spec: where and how the local server runs. */
export const localDeploymentOptionsSchema = z
  .object({
    /** Address to bind. Default 127.0.0.1; any other address needs `token`. */
    host: z.string().min(1).optional(),
    /** Port; 0 (default) picks a free one (read it from the status's endpoint). */
    port: z.number().int().min(0).max(65535).optional(),
    /**
     * Also serve the Open Inference Protocol over gRPC on this port (0 picks a free one; read it from the
     * status's `details.grpc.url`). Absent: no gRPC server, so no second port is opened unasked.
     */
    grpcPort: z.number().int().min(0).max(65535).optional(),
    /** Bearer token every route but health requires. */
    token: z.string().min(16, 'expected a token of at least 16 characters').optional(),
    /**
     * Serve a non-loopback address without a token: only for containers behind a platform's own
     * authentication (SageMaker, Vertex, Azure ML endpoints), which send no bearer token.
     */
    allowUnauthenticated: z.boolean().optional(),
    /** TLS: PEM key and certificate (contents, not paths). */
    tls: z
      .object({ key: z.string().min(1), cert: z.string().min(1) })
      .strict()
      .optional(),
    /** `auto` (CUDA, else CPU), `cuda` (fail without it) or `cpu`. */
    device: z.enum(['auto', 'cuda', 'cpu']).optional(),
    /** onnxruntime intra-op threads per replica. Default 1 (replicas are the parallelism). */
    intraOpThreads: z.number().int().min(1).max(256).optional(),
    /** Largest request body. Default 6 MiB (SageMaker's limit). */
    maxBodyBytes: z.number().int().min(1024).optional(),
    /** Extra Vertex predict route (`AIP_PREDICT_ROUTE`). */
    predictRoute: z.string().startsWith('/').optional(),
    /** Extra Vertex health route (`AIP_HEALTH_ROUTE`). */
    healthRoute: z.string().startsWith('/').optional(),
  })
  .strict();
export type LocalDeploymentOptions = z.infer<typeof localDeploymentOptionsSchema>;

/** Parses `providerOptions.local`, naming bad fields under that path. */
export function parseLocalDeploymentOptions(value: unknown): LocalDeploymentOptions {
  return parseSpec(localDeploymentOptionsSchema, value ?? {}, 'providerOptions.local');
}
