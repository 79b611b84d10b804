import { defineConfig } from 'tsup';
import { tsupBase } from '../../tooling/tsconfig/tsup.base.mjs';

export default defineConfig(tsupBase);
