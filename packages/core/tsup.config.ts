import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'provider-utils/index': 'src/provider-utils/index.ts',
    'onnx/index': 'src/onnx/index.ts',
    'test/index': 'src/test/index.ts',
    'conformance/index': 'src/conformance/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['vitest', 'onnx-proto'],
});
