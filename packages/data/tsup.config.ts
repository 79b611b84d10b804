import { defineConfig } from 'tsup';
import { tsupBase } from '../../tooling/tsconfig/tsup.base.mjs';

export default defineConfig({
  ...tsupBase,
  // The worker is its own entry so dist/index.js can start dist/pipelineWorker.js beside it.
  entry: { index: 'src/index.ts', pipelineWorker: 'src/workers/pipelineWorker.ts' },
  dts: { entry: { index: 'src/index.ts' } },
});
