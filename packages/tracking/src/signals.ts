/** Something that can be ended when the process is interrupted. */
export interface Killable {
  end(status: 'KILLED' | 'FINISHED'): Promise<unknown>;
}

const active = new Set<Killable>();
let installed = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  const runs = [...active];
  active.clear();
  await Promise.allSettled(runs.map((r) => r.end('KILLED')));
  uninstall();
  // Nobody else handles it: die of the signal as the process would have without us.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** The event loop emptied with runs still open (end() forgotten): deliver and finish them, as MLflow's atexit hook does. */
async function onBeforeExit(): Promise<void> {
  const runs = [...active];
  active.clear();
  uninstall();
  await Promise.allSettled(runs.map((r) => r.end('FINISHED')));
}

function uninstall(): void {
  if (!installed) return;
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('beforeExit', onBeforeExit);
  installed = false;
}

/**
 * Marks runs KILLED on SIGINT/SIGTERM, then lets the signal take its course; runs left
 * open when the process would exit normally are flushed and ended FINISHED.
 */
export function watchSignals(run: Killable): void {
  active.add(run);
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('beforeExit', onBeforeExit);
}

export function unwatchSignals(run: Killable): void {
  active.delete(run);
  if (active.size === 0) uninstall();
}
