import { deeplineVitestConfig } from '@deepline/test-helpers/vitest';

export default deeplineVitestConfig({ test: { globalSetup: ['src/testing/globalSetup.ts'] } });
