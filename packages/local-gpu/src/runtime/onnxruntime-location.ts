import { createRequire } from 'node:module';

/**
 * Where onnxruntime-node's entry file is, for replica workers: a worker's own `require` resolves from the
 * process's working directory, not from this package, so it is handed the resolved path.
 */
export function onnxruntimeEntryPath(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node');
}
