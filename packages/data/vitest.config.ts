import { deeplineVitestConfig } from '@deepline/test-helpers/vitest';

export default deeplineVitestConfig();
