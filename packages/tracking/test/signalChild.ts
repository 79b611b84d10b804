// Child process for lifecycle.test.ts: starts a local run, logs, prints the run dir, then
// receives the signal named in argv[3] while "training".
import { join } from 'node:path';
import { createTracker } from '../src/index.js';

const [root, signal] = process.argv.slice(2) as [string, NodeJS.Signals | 'exit'];
const tracker = await createTracker({ uri: root, experimentName: 'signals', runName: 'victim', flushIntervalMs: 50 });
for (let step = 0; step < 3; step++) tracker.logMetrics({ loss: 1 / (step + 1) }, { step });
process.stdout.write(`${join(root, tracker.experimentId, tracker.runId)}\n`);
if (signal !== 'exit') {
  process.kill(process.pid, signal);
  // Keep "training" until the signal ends the process.
  setInterval(() => {}, 1000);
}
// With 'exit' the script just ends without calling end(): the run must still be finished.
