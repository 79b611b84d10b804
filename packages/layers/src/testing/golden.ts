// Test-only helpers: the DeepSeek model.py golden in ../shared/reference/deepseek-tiny.
import { type RawTensor, readSafetensors, tf, toFloat32, toInt32 } from '@deepline/core';
import { sharedReferencePath } from '@deepline/test-helpers';

export const GOLDEN_MODEL_DIR = sharedReferencePath('deepseek-tiny', 'hf');
export const GOLDEN_FILE = sharedReferencePath('deepseek-tiny', 'golden_float32.safetensors');

export interface Golden {
  get(name: string): { shape: number[]; data: Float32Array };
  ints(name: string): { shape: number[]; data: Int32Array };
  tokens(): tf.Tensor2D;
}

export async function loadGolden(): Promise<Golden> {
  const { tensors } = await readSafetensors(GOLDEN_FILE);
  const raw = (name: string): RawTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`golden has no tensor ${name}`);
    return t;
  };
  return {
    get: (name) => ({ shape: raw(name).shape, data: toFloat32(raw(name)) }),
    ints: (name) => ({ shape: raw(name).shape, data: toInt32(raw(name), name) }),
    tokens: () => {
      const t = raw('tokens');
      return tf.tensor2d(toInt32(t, 'tokens'), t.shape as [number, number], 'int32');
    },
  };
}

/** Largest |a - b| over two equally long arrays (throws on length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
