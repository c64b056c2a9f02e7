import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';

/** The proto file's path inside the package (shipped in `protos/`, beside `src/` and `dist/`). */
const protoFile = join('protos', 'grpc_predict_v2.proto');

/**
 * How messages are decoded: field names as the proto spells them (`raw_input_contents`), 64-bit
 * integers as strings (exact INT64 contents, no Long objects), and repeated fields always arrays.
 */
export const grpcLoaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: true,
};

/**
 * The shipped `grpc_predict_v2.proto`. Found by walking up from this module, because it runs from
 * `src/server/` under the tests and from `dist/` (one level down) once built.
 */
export function grpcProtoPath(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    const candidate = join(directory, protoFile);
    if (existsSync(candidate)) return candidate;
    directory = dirname(directory);
  }
  throw new Error(`the package's ${protoFile} is missing (looked above ${fileURLToPath(import.meta.url)})`);
}

let loading: Promise<ServiceDefinition> | undefined;

/** `inference.GRPCInferenceService`, parsed once per process (and only when a gRPC server starts). */
export function loadInferenceService(): Promise<ServiceDefinition> {
  loading ??= (async () => {
    const grpc = await import('@grpc/grpc-js');
    const protoLoader = await import('@grpc/proto-loader');
    const definition = await protoLoader.load(grpcProtoPath(), grpcLoaderOptions);
    const inference = grpc.loadPackageDefinition(definition).inference as Record<string, unknown>;
    const service = (inference.GRPCInferenceService as { service?: ServiceDefinition } | undefined)?.service;
    if (!service) throw new Error('grpc_predict_v2.proto defines no inference.GRPCInferenceService');
    return service;
  })();
  // A failed load is not cached: the next server start tries again.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
