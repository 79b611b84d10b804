// Test-only: random weights with non-trivial norms and gate biases, from a fixed seed.
import { SeededRandom } from '@deepline/core';
import type { DeepseekConfig } from '../config.js';
import type { HostTensor } from '../modelIo.js';
import { modelWeightSpecs } from '../weightSpecs.js';

export function randomTensors(config: DeepseekConfig, seed: number, std = 0.15): Map<string, HostTensor> {
  const rng = new SeededRandom(seed);
  const out = new Map<string, HostTensor>();
  for (const spec of modelWeightSpecs(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (spec.init === 'normal') data[i] = rng.normal(0, std);
      else if (spec.init === 'ones') data[i] = 1 + rng.normal(0, 0.1);
      else data[i] = rng.normal(0, 0.05);
    }
    out.set(spec.name, { shape: spec.shape, data });
  }
  return out;
}

export function randomTokens(rng: SeededRandom, batch: number, length: number, vocab: number): number[][] {
  return Array.from({ length: batch }, () => Array.from({ length }, () => rng.int(vocab)));
}
