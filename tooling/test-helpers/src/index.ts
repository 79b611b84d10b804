export { makeTempDir, removeDir } from './tempDir.js';
export { sharedReferencePath, hasSharedReference } from './sharedReference.js';
export { seededFloats } from './seededFloats.js';
export { runReadmeExample, type RunReadmeExampleOptions } from './runReadmeExample.js';
export { toleranceRatio } from './toleranceRatio.js';
