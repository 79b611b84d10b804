import { defineConfig } from 'tsup';
import { tsupBase } from '../../tooling/tsconfig/tsup.base.mjs';

// The model worker (WorkerLanguageModel) is its own entry, dist/modelWorker.js beside index.js.
export default defineConfig({ ...tsupBase, entry: { index: 'src/index.ts', modelWorker: 'src/model/modelWorker.ts' } });
