import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend.js';
import { tf } from '../tf.js';
import { listKernelPacks, registerKernelPack, unregisterKernelPack } from './kernelRegistry.js';

async function on<T>(backend: 'cpu' | 'wasm', fn: () => Promise<T> | T): Promise<T> {
  await initBackend({ backend });
  return fn();
}

afterAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('wasm gaps fixed by core, compared with the cpu backend', () => {
  it('UnsortedSegmentSum matches cpu (float32 and int32, out-of-range ids dropped)', async () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const run = () =>
      tf.tidy(() => {
        const f = tf.unsortedSegmentSum(tf.tensor2d(x, [4, 3]), tf.tensor1d([2, 0, 2, 5], 'int32'), 3);
        const i = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 1, 0, 1], 'int32'), 2);
        return [Array.from(f.dataSync()), Array.from(i.dataSync())];
      });
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(wasm).toEqual(cpu);
    expect(cpu[0]).toEqual([4, 5, 6, 0, 0, 0, 8, 10, 12]);
  });

  it('gather gradients (embedding backward) work on wasm and match cpu', async () => {
    const run = () =>
      tf.tidy(() => {
        const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
        const ids = tf.tensor1d([2, 0, 2], 'int32');
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]))))(table);
        return Array.from(g.dataSync());
      });
    expect(await on('wasm', run)).toEqual(await on('cpu', run));
  });

  it('OneHot honours float32 on wasm', async () => {
    const run = () => tf.tidy(() => Array.from(tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3, 1, 0, 'float32').dataSync()));
    const wasm = await on('wasm', run);
    expect(wasm).toEqual(await on('cpu', run));
    expect(wasm).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0]);
  });

  it('TopK has a gradient that scatters to the selected inputs (cpu and wasm agree)', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor2d([0.1, 0.9, 0.5, 0.3, -1, 2, 0.7, 0], [2, 4]);
        const g = tf.grad((t: tf.Tensor) => {
          const { values } = tf.topk(t, 2);
          return tf.sum(tf.mul(values, tf.tensor2d([10, 1, 10, 1], [2, 2])));
        })(x);
        return Array.from(g.dataSync());
      });
    const cpu = await on('cpu', run);
    // Row 0 picks 0.9 (weight 10) then 0.5 (weight 1); row 1 picks 2 then 0.7.
    expect(cpu).toEqual([0, 10, 1, 0, 0, 10, 1, 0]);
    expect(await on('wasm', run)).toEqual(cpu);
  });
});

describe('kernel registry', () => {
  it('overrides a built-in kernel for its backend and restores it on unregister', async () => {
    await initBackend({ backend: 'cpu' });
    const stock = tf.getKernel('Neg', 'cpu')!;
    await registerKernelPack({
      name: 'test:neg-as-identity',
      backend: 'cpu',
      kernels: [{ kernelName: 'Neg', backendName: 'cpu', kernelFunc: (args) => stock.kernelFunc({ ...args, kernelName: 'Neg' } as never) && tf.getKernel('Identity', 'cpu')!.kernelFunc(args as never) }],
    });
    expect(listKernelPacks().find((p) => p.name === 'test:neg-as-identity')?.applied).toBe(true);
    expect(tf.tidy(() => Array.from(tf.neg(tf.tensor1d([1, -2])).dataSync()))).toEqual([1, -2]);
    await unregisterKernelPack('test:neg-as-identity');
    expect(tf.tidy(() => Array.from(tf.neg(tf.tensor1d([1, -2])).dataSync()))).toEqual([-1, 2]);
  });
});
