import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'emulator/index': 'src/emulator/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The emulator finds the protos with createRequire(import.meta.url); the CJS build needs the shim.
  shims: true,
});
