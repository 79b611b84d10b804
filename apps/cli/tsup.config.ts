import { defineConfig } from 'tsup';
import { tsupBase } from '../../tooling/tsconfig/tsup.base.mjs';

export default defineConfig([
  tsupBase,
  {
    ...tsupBase,
    entry: ['src/bin.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
