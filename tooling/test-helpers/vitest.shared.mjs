// Shared vitest settings: resolve workspace packages to their TypeScript sources
// (the `source` export condition) so tests never need a prior build, and write a
// JSON report that .ci/run sums into one "N passed, N failed" line.
import { defineConfig } from 'vitest/config';

const conditions = ['source', 'module', 'node', 'import', 'default'];

export function deeplineVitestConfig(overrides = {}) {
  const { test = {}, ...rest } = overrides;
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['source'] } },
    ...rest,
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      reporters: ['default', 'json'],
      outputFile: { json: 'test-report.json' },
      ...test,
    },
  });
}
