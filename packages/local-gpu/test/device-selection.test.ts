import { MlscaleError } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { parseNvidiaSmi, readGpuStats } from '../src/gpu/index.js';
import { onnxruntimeCudaProbe } from '../src/runtime/cuda-probe.js';
import { cudaFailureReason, selectDevice } from '../src/runtime/device-selection.js';

describe('device selection', () => {
  it('with the CUDA provider absent (as here), auto falls back to CPU and says why', async () => {
    const selection = await selectDevice('auto', onnxruntimeCudaProbe);
    expect(selection).toEqual({
      requested: 'auto',
      used: 'cpu',
      reason: 'CUDA provider libraries not installed',
      executionProviders: ['cpu'],
    });
  });

  it('with the CUDA provider absent, cuda fails with the reason instead of falling back', async () => {
    const error = await selectDevice('cuda', onnxruntimeCudaProbe).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unsupported')).toBe(true);
    expect((error as Error).message).toMatch(
      /cannot be used: CUDA provider libraries not installed\. Use device 'auto'/,
    );
  });

  it('cpu never probes', async () => {
    let probed = false;
    const selection = await selectDevice('cpu', async () => {
      probed = true;
    });
    expect(selection).toEqual({ requested: 'cpu', used: 'cpu', executionProviders: ['cpu'] });
    expect(probed).toBe(false);
  });

  it('uses CUDA first, then CPU, when the probe succeeds', async () => {
    const selection = await selectDevice('auto', async () => {});
    expect(selection).toEqual({ requested: 'auto', used: 'cuda', executionProviders: ['cuda', 'cpu'] });
  });

  it('turns onnxruntime errors into short reasons', () => {
    expect(
      cudaFailureReason(
        new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'),
      ),
    ).toBe('CUDA provider libraries not installed');
    expect(cudaFailureReason(new Error('CUDA failure 100: no CUDA-capable device is detected'))).toMatch(
      /^no usable CUDA device/,
    );
    expect(cudaFailureReason(new Error('something else\nsecond line'))).toBe(
      'CUDA execution provider failed to start (something else)',
    );
  });
});

describe('GPU figures from nvidia-smi', () => {
  it('parses its CSV and skips fields it reports as [N/A]', () => {
    const output = '0, NVIDIA H200, 37, 143771, 1024\n1, NVIDIA H200, [N/A], 143771, [N/A]\n';
    expect(parseNvidiaSmi(output)).toEqual([
      {
        index: 0,
        name: 'NVIDIA H200',
        utilizationPercent: 37,
        memoryTotalBytes: 143771 * 1048576,
        memoryUsedBytes: 1024 * 1048576,
      },
    ]);
  });

  it('reports absence with a reason when the binary is not there', async () => {
    const stats = await readGpuStats('/nonexistent/nvidia-smi');
    expect(stats).toEqual({ available: false, reason: 'nvidia-smi not found (no NVIDIA driver)' });
  });
});
