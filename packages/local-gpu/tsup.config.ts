import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'onnx/index': 'src/onnx/index.ts',
    'monitoring/index': 'src/monitoring/index.ts',
    'training/index': 'src/training/index.ts',
    'registry/index': 'src/registry/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url in the CJS build (the replica worker resolves onnxruntime-node from this file).
  shims: true,
  external: ['onnxruntime-node'],
});
