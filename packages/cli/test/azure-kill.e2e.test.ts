import { rmSync } from 'node:fs';
import { type AzureMlEmulator, azureMlConformanceCloud, startAzureMlEmulator } from '@mlscale/azure/emulator';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ensureBuilt, projectInPackage, removeBuild } from './cli-harness.js';
import { type KillTestCloud, killDuringCreate, killDuringUpdate } from './kill-and-rerun.js';

describe('mlscale apply killed with SIGKILL against the Azure ML emulator, then run again', () => {
  let emulator: AzureMlEmulator;
  let target: KillTestCloud;
  const directories: string[] = [];
  // In the package, so the config file's imports (@mlscale/azure/emulator) resolve.
  const newDirectory = () => {
    const directory = projectInPackage('azure-kill-');
    directories.push(directory);
    return directory;
  };

  beforeAll(async () => {
    await ensureBuilt();
    emulator = await startAzureMlEmulator();
    const autoscaling = { minReplicas: 1, maxReplicas: 3 };
    target = {
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
    };
  }, 120_000);

  afterAll(async () => {
    await emulator?.close();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
    removeBuild();
  });

  it(
    'an autoscaled create, killed after each of several mutating requests',
    () => killDuringCreate(newDirectory, target),
    300_000,
  );

  it(
    'a model update, killed after each of several mutating requests',
    () => killDuringUpdate(newDirectory, target),
    300_000,
  );
});
