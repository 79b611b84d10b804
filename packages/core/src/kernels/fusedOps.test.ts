import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend.js';
import { tf } from '../tf.js';
import { type FusedRmsNormInputs, fusedOp, listFusedOps, registerFusedOp, unregisterFusedOp } from './fusedOps.js';

afterAll(async () => {
  unregisterFusedOp('rmsNorm', 'cpu');
  unregisterFusedOp('rmsNorm', 'wasm');
  await initBackend({ backend: 'cpu' });
});

describe('fused op registry', () => {
  it('returns the implementation registered for the active backend only', async () => {
    const calls: string[] = [];
    const onCpu = ({ x }: FusedRmsNormInputs) => {
      calls.push('cpu');
      return tf.clone(x);
    };
    const onWasm = ({ x }: FusedRmsNormInputs) => {
      calls.push('wasm');
      return tf.neg(x);
    };
    await initBackend({ backend: 'cpu' });
    expect(fusedOp('rmsNorm')).toBeUndefined();
    registerFusedOp('rmsNorm', 'wasm', onWasm);
    expect(fusedOp('rmsNorm')).toBeUndefined(); // wasm's op is not used on cpu
    registerFusedOp('rmsNorm', 'cpu', onCpu);
    const x = tf.tensor1d([1, -2]);
    expect(Array.from(fusedOp('rmsNorm')!({ x, weight: x, eps: 1e-6 }).dataSync())).toEqual([1, -2]);
    await initBackend({ backend: 'wasm' });
    const xw = tf.tensor1d([1, -2]);
    expect(Array.from(fusedOp('rmsNorm')!({ x: xw, weight: xw, eps: 1e-6 }).dataSync())).toEqual([-1, 2]);
    expect(calls).toEqual(['cpu', 'wasm']);
    expect(fusedOp('siluMul')).toBeUndefined();
    expect(listFusedOps()).toEqual(expect.arrayContaining([{ name: 'rmsNorm', backend: 'cpu' }, { name: 'rmsNorm', backend: 'wasm' }]));
  });

  it('unregistering removes the op for that backend and keeps the others', async () => {
    const impl = ({ x }: FusedRmsNormInputs) => tf.clone(x);
    registerFusedOp('rmsNorm', 'cpu', impl);
    registerFusedOp('rmsNorm', 'wasm', impl);
    unregisterFusedOp('rmsNorm', 'wasm');
    unregisterFusedOp('siluMul', 'wasm'); // absent: a no-op
    await initBackend({ backend: 'wasm' });
    expect(fusedOp('rmsNorm')).toBeUndefined();
    await initBackend({ backend: 'cpu' });
    expect(fusedOp('rmsNorm')).toBe(impl);
  });
});
