import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackendConformance } from '@mlscale/core/conformance';
import { azureMlConformanceCloud, startAzureMlEmulator } from '../src/emulator/index.js';
import { azureml } from '../src/index.js';
import { startAzurite } from './azurite.js';
import { writeOnnxModel } from './onnx-model-file.js';

/**
 * Local ONNX files: deployments upload and register them under the endpoint's name. The first two
 * share a signature; the third takes 100 features instead of 3, which the signature gate refuses.
 */
const folder = mkdtempSync(join(tmpdir(), 'mlscale-azure-conformance-'));
const firstModel = join(folder, 'model-v1.onnx');
const secondModel = join(folder, 'model-v2.onnx');
const incompatibleModel = join(folder, 'model-100-features.onnx');
const rows = { name: 'output', shape: [-1, 1] };
writeOnnxModel(firstModel, { inputs: [{ name: 'input', shape: [-1, 3] }], outputs: [rows], producer: 'v1' });
writeOnnxModel(secondModel, { inputs: [{ name: 'input', shape: [-1, 3] }], outputs: [rows], producer: 'v2' });
writeOnnxModel(incompatibleModel, { inputs: [{ name: 'input', shape: [-1, 100] }], outputs: [rows] });

describeBackendConformance({
  name: 'azureml() on the ARM emulator with azurite',
  namePrefix: 'az',
  setup: async () => {
    // Operations settle by the next request: the sweeps make hundreds of them.
    const [emulator, azurite] = await Promise.all([
      startAzureMlEmulator({ delays: { provisioningMs: 0, deletionMs: 0, jobStepMs: 10 } }),
      startAzurite(),
    ]);
    const settings = {
      ...emulator.settings,
      blobServiceUrl: azurite.blobServiceUrl,
      compute: 'cpu-cluster',
    };
    return {
      backend: azureml(settings),
      cloud: azureMlConformanceCloud(emulator.inspection),
      reopen: async () => azureml(settings),
      cleanup: async () => {
        await Promise.all([emulator.close(), azurite.close()]);
        rmSync(folder, { recursive: true, force: true });
      },
    };
  },
  deployment: (name) => ({ name, model: { uri: firstModel }, replicas: 1 }),
  updatedModel: { uri: secondModel },
  incompatibleModel: { uri: incompatibleModel },
  autoscaling: { minReplicas: 1, maxReplicas: 3, target: { metric: 'cpuUtilization', value: 70 } },
  rollout: { steps: [50, 100], stepSeconds: 0 },
  predictRequest: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }] },
  checkPrediction: (response) => {
    const output = response.outputs[0];
    if (
      JSON.stringify(output?.data) !== JSON.stringify([6, 15]) ||
      JSON.stringify(output?.shape) !== '[2,1]'
    ) {
      throw new Error(`unexpected prediction ${JSON.stringify(response.outputs)}`);
    }
  },
  trainingJob: (name) => ({
    name,
    image: 'mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1',
    command: ['python', 'train.py'],
  }),
  modelRegistration: (name) => ({
    name,
    path: `azureml://datastores/workspaceblobstore/paths/${name}/model.onnx`,
  }),
  client: {
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    polling: { minDelayMs: 2, maxDelayMs: 20 },
  },
});
