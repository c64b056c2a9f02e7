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
    // onnxruntime logs the missing provider library on stderr before the session options apply; the
    // process-wide log level (fixed at the first session) is what silences it. Failures still surface as
    // exceptions, and the reason is reported in the deployment's status.
    ort.env.logLevel = 'fatal';
    const session = await ort.InferenceSession.create(fixedShapeMlp(), {
      executionProviders: ['cuda'],
      // Fatal only: the missing-library case is expected and reported in the status instead.
      logSeverityLevel: 4,
    });
    await session.release();
  })();
  return cached;
};
