import { deeplineVitestConfig } from '@deepline/test-helpers/vitest';

export default deeplineVitestConfig({ test: { testTimeout: 600_000, hookTimeout: 600_000 } });
