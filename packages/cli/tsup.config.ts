import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    // Both builds write into dist/; the package's build script empties it first (a clean here would race
    // the trainer's build and could delete its output).
    clean: false,
    sourcemap: true,
    target: 'node20',
    // import.meta.url in the CJS build (the demo finds its training program beside itself).
    shims: true,
  },
  {
    // `mlscale demo` trains the repository's example classifier: bundled whole into one CommonJS file,
    // so the demo runs it with plain `node` wherever the CLI is installed.
    entry: { 'demo-trainer': '../../examples/train-classifier/train.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    dts: false,
    clean: false,
    target: 'node20',
    noExternal: [/.*/],
    platform: 'node',
  },
]);
