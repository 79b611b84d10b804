/** Something that can be ended when the process is interrupted. */
export interface Killable {
  end(status: 'KILLED'): Promise<unknown>;
}

const active = new Set<Killable>();
let installed = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  const runs = [...active];
  active.clear();
  await Promise.allSettled(runs.map((r) => r.end('KILLED')));
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  installed = false;
  // Nobody else handles it: die of the signal as the process would have without us.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Marks runs KILLED on SIGINT/SIGTERM, then lets the signal take its course. */
export function watchSignals(run: Killable): void {
  active.add(run);
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export function unwatchSignals(run: Killable): void {
  active.delete(run);
  if (active.size === 0 && installed) {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    installed = false;
  }
}
