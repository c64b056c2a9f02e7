import { describeBackendConformance } from '@mlscale/core/conformance';
import { expect } from 'vitest';
import { localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import { referenceInput, temporaryFolder, writeModel } from './helpers.js';

const folder = temporaryFolder();
const modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp());

describeBackendConformance({
  name: 'localGpu',
  setup: async () => {
    const backend = localGpu({ root: folder.path });
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        folder.remove();
      },
    };
  },
  deployment: (name) => ({ name, model: { uri: modelPath }, replicas: 1 }),
  trainingJob: (name) => ({ name, command: [process.execPath, '-e', 'console.log("epoch=1 loss=0.5")'] }),
  predictRequest: {
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from(referenceInput(1)) }],
  },
  checkPrediction: (response) => {
    const output = response.outputs[0]!;
    expect(output.shape).toEqual([1, 10]);
    const total = (output.data as number[]).reduce((sum, value) => sum + value, 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-5);
  },
});
