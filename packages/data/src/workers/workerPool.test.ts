import { describe, expect, it } from 'vitest';
import { cleanConfigSchema } from '../config.js';
import { WorkerPool } from './workerPool.js';

/** Polls until the pool's thread exists (it takes batches from then on); fails after 10 s. */
async function untilStarted(pool: WorkerPool): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pool.hasCapacity(2)) {
    if (Date.now() > deadline) throw new Error('the worker thread was never created');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('WorkerPool', () => {
  it('cleans batches in a worker thread and fails clearly once its workers are gone', async () => {
    const pool = await WorkerPool.start({
      size: 1,
      init: {
        clean: cleanConfigSchema.parse({ language: false }),
        dedup: { exact: true, minhash: false },
      },
    });
    try {
      const result = await pool.run([{ id: 'a', text: 'too short' }]);
      expect(result.items).toEqual([]);
      expect(result.stages.find((s) => s.name === 'gopher_repetition')?.input).toBe(1);
      // Simulate a crashed thread.
      await (
        pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> }
      ).slots[0]!.worker.terminate();
      await expect(pool.run([{ id: 'b', text: 'x' }])).rejects.toThrow(/exited/);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('queues batches on a booting worker, and hands them back when it fails to start', async () => {
    const clean = cleanConfigSchema.parse({ language: false });
    // A config the worker cannot build its stages from (the main thread validates configs, so
    // this stands for any start-up failure inside the thread).
    const broken = { ...clean, gopherRepetition: { topNGrams: 5 } } as unknown as typeof clean;
    const pool = new WorkerPool({ size: 1, init: { clean: broken, dedup: false } });
    try {
      // The thread is created once its script is ready; it takes batches before it is up.
      await untilStarted(pool);
      expect(pool.isReady).toBe(false);
      const queued = pool.run([{ id: 'a', text: 'queued while booting' }]);
      await expect(queued).rejects.toThrow(/failed to start/);
      await expect(pool.ready).rejects.toThrow(/failed to start/);
      expect(pool.hasCapacity(2)).toBe(false);
    } finally {
      await pool.close();
    }

    const good = new WorkerPool({ size: 1, init: { clean, dedup: false } });
    try {
      await untilStarted(good);
      const early = good.run([{ id: 'b', text: 'too short' }]);
      const result = await early;
      expect(result.stages.find((s) => s.name === 'gopher_repetition')?.input).toBe(1);
    } finally {
      await good.close();
    }
  }, 60_000);
});
