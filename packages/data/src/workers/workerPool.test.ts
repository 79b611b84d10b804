import { describe, expect, it } from 'vitest';
import { cleanConfigSchema } from '../config.js';
import { WorkerPool } from './workerPool.js';

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
});
