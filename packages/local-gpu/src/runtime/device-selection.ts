import type { DeviceReport } from '@mlscale/core';
import { MlscaleError } from '@mlscale/core';

/** What a deployment asks for. */
export type DeviceRequest = 'auto' | 'cuda' | 'cpu';

/** What was chosen: the report for DeploymentStatus.device, and the providers replicas load. */
export interface DeviceSelection extends DeviceReport {
  requested: DeviceRequest;
  used: 'cuda' | 'cpu';
  /** onnxruntime execution providers, in order. */
  executionProviders: string[];
}

/**
 * Tries to load a session with one execution provider; resolves when it works, rejects with
 * onnxruntime's error when it does not.
 */
export type ProviderProbe = (provider: 'cuda') => Promise<void>;

/**
 * Chooses the device. `cpu` never probes. `auto` probes CUDA and falls back to CPU with the reason;
 * `cuda` probes and fails with that reason (code `Unsupported`) instead of falling back.
 */
export async function selectDevice(requested: DeviceRequest, probe: ProviderProbe): Promise<DeviceSelection> {
  if (requested === 'cpu') return { requested, used: 'cpu', executionProviders: ['cpu'] };
  let reason: string;
  try {
    await probe('cuda');
    return { requested, used: 'cuda', executionProviders: ['cuda', 'cpu'] };
  } catch (error) {
    reason = cudaFailureReason(error);
  }
  if (requested === 'cuda') {
    throw new MlscaleError({
      code: 'Unsupported',
      message: `Device 'cuda' was requested but the CUDA execution provider cannot be used: ${reason}. Use device 'auto' to fall back to CPU, or install the provider libraries (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js).`,
      provider: 'local',
    });
  }
  return { requested, used: 'cpu', reason, executionProviders: ['cpu'] };
}

/** A short, user-facing reason from onnxruntime's error. */
export function cudaFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (
    /failed to load (shared )?library|providers_shared|libonnxruntime_providers_cuda|cannot open shared object/i.test(
      message,
    )
  ) {
    return 'CUDA provider libraries not installed';
  }
  if (/no cuda|cuda driver|CUDA failure|cudaGetDeviceCount|no CUDA-capable device/i.test(message)) {
    return `no usable CUDA device (${firstLine(message)})`;
  }
  if (/not (supported|bundled)|unknown.*execution provider|backend not found/i.test(message)) {
    return `CUDA execution provider not available in this onnxruntime build (${firstLine(message)})`;
  }
  return `CUDA execution provider failed to start (${firstLine(message)})`;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).slice(0, 200);
}
