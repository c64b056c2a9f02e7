import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVertexEmulator, vertexConformanceCloud } from '@mlscale/gcp/emulator';
import { afterAll } from 'vitest';
import { projectInPackage, removeBuild } from './cli-harness.js';
import { describeKillAndRerun } from './kill-and-rerun.js';

afterAll(() => removeBuild());

describeKillAndRerun('Vertex AI', {
  // In the package, so the config file's imports (@mlscale/gcp/emulator) resolve.
  newDirectory: () => {
    const directory = projectInPackage('gcp-kill-');
    for (const version of [1, 2])
      writeFileSync(join(directory, `model-v${version}.onnx`), `model version ${version}`);
    return directory;
  },
  start: async () => {
    const emulator = await startVertexEmulator({ project: 'mlscale-test' });
    const autoscaling = { minReplicas: 1, maxReplicas: 3 };
    return {
      close: () => emulator.close(),
      target: {
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
      },
    };
  },
});
