import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVertexEmulator, type VertexEmulator, vertexConformanceCloud } from '@mlscale/gcp/emulator';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ensureBuilt, projectInPackage, removeBuild } from './cli-harness.js';
import { type KillTestCloud, killDuringCreate, killDuringUpdate } from './kill-and-rerun.js';

describe('mlscale apply killed with SIGKILL against the Vertex AI emulator, then run again', () => {
  let emulator: VertexEmulator;
  let target: KillTestCloud;
  const directories: string[] = [];
  // In the package, so the config file's imports (@mlscale/gcp/emulator) resolve.
  const newDirectory = () => {
    const directory = projectInPackage('gcp-kill-');
    for (const version of [1, 2])
      writeFileSync(join(directory, `model-v${version}.onnx`), `model version ${version}`);
    directories.push(directory);
    return directory;
  };

  beforeAll(async () => {
    await ensureBuilt();
    emulator = await startVertexEmulator({ project: 'mlscale-test' });
    const autoscaling = { minReplicas: 1, maxReplicas: 3 };
    target = {
      cloud: vertexConformanceCloud(emulator.inspection),
      env: {
        VERTEX_EMULATOR_HOST: emulator.apiEndpoint,
        VERTEX_EMULATOR_PORT: String(emulator.port),
        VERTEX_STORAGE_ENDPOINT: emulator.storageEndpoint,
      },
      autoscaling,
      // Channel credentials are an object: a TypeScript config builds them.
      config: (name, version) => ({
        file: 'mlscale.config.ts',
        text: `import { defineConfig } from '@mlscale/cli';
import { vertexEmulatorSettings } from '@mlscale/gcp/emulator';

export default async () =>
  defineConfig({
    backends: {
      gcp: {
        project: 'mlscale-test',
        location: 'us-central1',
        bucket: 'mlscale-artifacts',
        ...(await vertexEmulatorSettings({
          apiEndpoint: process.env.VERTEX_EMULATOR_HOST ?? '',
          port: Number(process.env.VERTEX_EMULATOR_PORT),
          storageEndpoint: process.env.VERTEX_STORAGE_ENDPOINT ?? '',
        })),
      },
    },
    deployments: [
      {
        name: '${name}',
        model: { uri: './model-v${version}.onnx' },
        instance: { type: 'n1-standard-4' },
        replicas: 1,
        autoscaling: { minReplicas: ${autoscaling.minReplicas}, maxReplicas: ${autoscaling.maxReplicas}, target: { metric: 'cpuUtilization', value: 60 } },
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
