import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker is its own entry so dist/index.js can start dist/pipelineWorker.js beside it.
  entry: { index: 'src/index.ts', pipelineWorker: 'src/workers/pipelineWorker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  shims: true,
  target: 'node20',
});
