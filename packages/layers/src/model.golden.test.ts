import { initBackend, tf } from '@deepline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeepseekModel } from './model.js';
import { ropeTables } from './rope.js';
import { GOLDEN_MODEL_DIR, type Golden, loadGolden, maxAbsDiff } from './testing/golden.js';

// The golden was produced by DeepSeek's own inference/model.py (float32, CPU).
describe.each(['cpu', 'wasm'] as const)('DeepseekModel against the model.py golden on %s', (backend) => {
  let golden: Golden;
  let model: DeepseekModel;
  beforeAll(async () => {
    await initBackend({ backend });
    golden = await loadGolden();
    model = await DeepseekModel.load(GOLDEN_MODEL_DIR);
  });
  afterAll(() => model.dispose());

  it('reproduces model.py freqs_cis', () => {
    const t = ropeTables({ config: model.config, startPos: 0, length: 64 });
    expect(maxAbsDiff(t.cos, golden.get('freqs_cis_real').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(t.sin, golden.get('freqs_cis_imag').data)).toBeLessThan(1e-6);
  });

  it('matches logits at every position, absorbed and naive', () => {
    const tokens = golden.tokens();
    for (const [impl, key] of [
      ['absorb', 'logits'],
      ['naive', 'logits_naive'],
    ] as const) {
      const out = model.forward(tokens, { attention: impl });
      expect(out.logits.shape).toEqual([2, 24, 256]);
      expect(maxAbsDiff(out.logits.dataSync(), golden.get(key).data)).toBeLessThan(1e-4);
      out.logits.dispose();
    }
    tokens.dispose();
  });

  it('selects the same experts with the same weights in every MoE layer', () => {
    const tokens = golden.tokens();
    const out = model.forward(tokens, { collectRouting: true });
    expect(out.routing?.map((r) => r.layer)).toEqual([1, 2]);
    for (const r of out.routing!) {
      const indices = golden.ints(`act.layers.${r.layer}.ffn.gate.indices`);
      expect(Array.from(r.indices.dataSync())).toEqual(Array.from(indices.data));
      expect(maxAbsDiff(r.weights.dataSync(), golden.get(`act.layers.${r.layer}.ffn.gate.weights`).data)).toBeLessThan(1e-4);
      const counts = new Int32Array(8);
      for (const e of indices.data) counts[e]! += 1;
      expect(Array.from(r.expertCounts)).toEqual(Array.from(counts));
      // softmax affinities: rows sum to 1
      const rowSums = tf.sum(r.scores, -1).dataSync();
      expect(maxAbsDiff(rowSums, new Float32Array(48).fill(1))).toBeLessThan(1e-5);
      r.scores.dispose();
      r.indices.dispose();
      r.weights.dispose();
    }
    out.logits.dispose();
    tokens.dispose();
  });

  it('returns the final normalised hidden state (act.norm)', () => {
    const tokens = golden.tokens();
    const out = model.forward(tokens, { returnHidden: true });
    expect(maxAbsDiff(out.hidden!.dataSync(), golden.get('act.norm').data)).toBeLessThan(1e-4);
    out.logits.dispose();
    out.hidden!.dispose();
    tokens.dispose();
  });

  for (const impl of ['absorb', 'naive'] as const) {
    it(`decodes with the ${impl} KV cache exactly like decode_logits`, () => {
      const tokens = golden.tokens();
      const expected = golden.get('decode_logits');
      const prefill = 16;
      const cache = model.createCache({ batchSize: 2, attention: impl });
      const steps: Float32Array[] = [];
      const first = tf.slice(tokens, [0, 0], [2, prefill]);
      const out0 = model.forward(first, { cache, startPos: 0 });
      // step 0 = last position of the prefill
      steps.push(tf.tidy(() => tf.squeeze(tf.slice(out0.logits, [0, prefill - 1, 0], [2, 1, 256]), [1]).dataSync() as Float32Array));
      out0.logits.dispose();
      first.dispose();
      for (let j = 1; j <= 24 - prefill; j++) {
        const step = tf.slice(tokens, [0, prefill + j - 1], [2, 1]);
        const out = model.forward(step, { cache, startPos: prefill + j - 1 });
        steps.push(out.logits.dataSync() as Float32Array);
        out.logits.dispose();
        step.dispose();
      }
      expect(cache.length).toBe(24);
      const flat = new Float32Array(steps.length * 512);
      for (const [i, s] of steps.entries()) flat.set(s, i * 512);
      expect(maxAbsDiff(flat, expected.data)).toBeLessThan(1e-4);
      cache.dispose();
      tokens.dispose();
    });
  }
});
