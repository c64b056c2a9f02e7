import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendV1 } from '@mlscale/core';
import { vertex } from '../src/adapter/index.js';
import type { VertexSettingsInput } from '../src/adapter/settings.js';
import {
  startVertexEmulator,
  type VertexEmulator,
  type VertexEmulatorOptions,
} from '../src/emulator/index.js';
import { writeOnnxModel } from './onnx-model-file.js';

/** A request as the emulator recorded it: decoded protobuf JSON, checked field by field in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: recorded wire messages are untyped JSON, narrowed by the assertions.
export type WireMessage = Record<string, any>;

export const project = 'mlscale-test';
export const location = 'us-central1';
export const bucket = 'mlscale-artifacts';

/** An emulator, a backend on it, and a small model file on disk. */
export interface VertexTestSetup {
  emulator: VertexEmulator;
  backend: BackendV1;
  /** Path of a small ONNX model, `input` [N, 3] → `output` [N, 3] (the emulator's predictor does the math). */
  modelPath: string;
  /** Another ONNX model with the same inputs and outputs: a new version to update to. */
  secondModelPath: string;
  /** An ONNX model that takes `input` [N, 100]: an update to it would break callers of `modelPath`. */
  incompatibleModelPath: string;
  /** Another backend on the same emulator (a second process, say). */
  newBackend(settings?: VertexSettingsInput): BackendV1;
  cleanup(): Promise<void>;
}

export async function startVertexTestSetup(
  options: VertexEmulatorOptions = {},
  settings: VertexSettingsInput = {},
): Promise<VertexTestSetup> {
  const emulator = await startVertexEmulator({ project, ...options });
  const directory = await mkdtemp(join(tmpdir(), 'mlscale-gcp-'));
  const modelPath = join(directory, 'model.onnx');
  const tensors = (inputSize: number) => ({
    inputs: [{ name: 'input', shape: [-1, inputSize] }],
    outputs: [{ name: 'output', shape: [-1, inputSize] }],
  });
  await writeOnnxModel(modelPath, { ...tensors(3), producer: 'softmax over the input' });
  const secondModelPath = join(directory, 'model-v2.onnx');
  await writeOnnxModel(secondModelPath, { ...tensors(3), producer: 'softmax over the input, version 2' });
  const incompatibleModelPath = join(directory, 'model-wide.onnx');
  await writeOnnxModel(incompatibleModelPath, { ...tensors(100), producer: 'softmax over 100 inputs' });
  const backends: BackendV1[] = [];
  const newBackend = (extra: VertexSettingsInput = {}) => {
    const backend = vertex({
      project,
      location,
      apiEndpoint: emulator.apiEndpoint,
      port: emulator.port,
      sslCreds: emulator.sslCreds,
      storageEndpoint: emulator.storageEndpoint,
      bucket,
      trainingImage: 'us-docker.pkg.dev/mlscale/images/trainer:latest',
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      ...settings,
      ...extra,
    });
    backends.push(backend);
    return backend;
  };
  const backend = newBackend();
  return {
    emulator,
    backend,
    modelPath,
    secondModelPath,
    incompatibleModelPath,
    newBackend,
    async cleanup() {
      for (const item of backends) await item.close?.();
      await emulator.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
