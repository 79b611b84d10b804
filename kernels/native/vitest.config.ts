import { deeplineVitestConfig } from '@deepline/test-helpers/vitest';

// The addon is normally built by `pnpm install`; the global setup builds it when missing
// (never failing: without a compiler the tests cover the unavailable path).
export default deeplineVitestConfig({ test: { globalSetup: ['./src/testing/buildAddonOnce.ts'] } });
