import { azureMlConformanceCloud, startAzureMlEmulator } from '@mlscale/azure/emulator';
import { afterAll } from 'vitest';
import { projectInPackage, removeBuild } from './cli-harness.js';
import { describeKillAndRerun } from './kill-and-rerun.js';

afterAll(() => removeBuild());

describeKillAndRerun('Azure ML', {
  // In the package, so the config file's imports (@mlscale/azure/emulator) resolve.
  newDirectory: () => projectInPackage('azure-kill-'),
  start: async () => {
    const emulator = await startAzureMlEmulator();
    const autoscaling = { minReplicas: 1, maxReplicas: 3 };
    return {
      close: () => emulator.close(),
      target: {
        cloud: azureMlConformanceCloud(emulator.inspection),
        env: { AZUREML_EMULATOR_URL: emulator.url, AZUREML_EMULATOR_CERTIFICATE: emulator.certificate },
        autoscaling,
        // The credential and the pipeline policy are objects: a TypeScript config builds them.
        config: (name, version) => ({
          file: 'mlscale.config.ts',
          text: `import { defineConfig } from '@mlscale/cli';
import { azureMlEmulatorSettings } from '@mlscale/azure/emulator';

export default defineConfig({
  backends: {
    azure: azureMlEmulatorSettings({
      url: process.env.AZUREML_EMULATOR_URL ?? '',
      certificate: process.env.AZUREML_EMULATOR_CERTIFICATE ?? '',
    }),
  },
  deployments: [
    {
      name: '${name}',
      model: { uri: 'azureml://datastores/workspaceblobstore/paths/models/mnist-v${version}/model.onnx' },
      replicas: 1,
      autoscaling: { minReplicas: ${autoscaling.minReplicas}, maxReplicas: ${autoscaling.maxReplicas}, target: { metric: 'cpuUtilization', value: 70 } },
    },
  ],
});
`,
        }),
      },
    };
  },
});
