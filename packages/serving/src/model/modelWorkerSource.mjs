// Worker entry when running from the TypeScript sources (tests, benchmarks): Node 20 ignores
// `--import` in a worker's execArgv, so tsx is registered here before loading the worker.
import { register } from 'tsx/esm/api';

register();
await import('./modelWorker.ts');
