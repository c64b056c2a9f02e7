import { fixedShapeMlp } from '../onnx/reference-mlp.js';
import type { ProviderProbe } from './device-selection.js';

let cached: Promise<void> | undefined;

/**
 * The real probe: loads a tiny session with the CUDA provider in this process, once per process (the
 * answer does not change while it runs). onnxruntime-node is imported here, lazily.
 */
export const onnxruntimeCudaProbe: ProviderProbe = () => {
  cached ??= (async () => {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(fixedShapeMlp(), {
      executionProviders: ['cuda'],
      // Fatal only: the missing-library case is expected and reported in the status instead.
      logSeverityLevel: 4,
    });
    await session.release();
  })();
  return cached;
};
