import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDirectory = fileURLToPath(new URL('./packages/', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import workspace packages from source, so they run without a build:
    // `@mlscale/<package>` → packages/<package>/src/index.ts, `@mlscale/<package>/<sub>` → src/<sub>/index.ts.
    alias: [
      { find: /^@mlscale\/([a-z-]+)$/, replacement: `${packagesDirectory}$1/src/index.ts` },
      { find: /^@mlscale\/([a-z-]+)\/([a-z-]+)$/, replacement: `${packagesDirectory}$1/src/$2/index.ts` },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
