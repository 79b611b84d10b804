import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { dequantize } from './dequantize.js';
import { gptqQuantizeInt4 } from './gptq.js';
import { HessianAccumulator } from './hessian.js';
import { inverseUpperCholesky } from './linalg.js';
import { quantizeInt4 } from './rtn.js';

/** Correlated activations: a few latent factors mixed into every feature, plus outlier features. */
function correlatedInputs(rows: number, cols: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  const k = 6;
  const mix = rng.normalArray(k * cols, 1);
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const z = rng.normalArray(k, 1);
    for (let c = 0; c < cols; c++) {
      let v = 0.1 * rng.normalArray(1, 1)[0]!;
      for (let j = 0; j < k; j++) v += z[j]! * mix[j * cols + c]!;
      x[r * cols + c] = v * (c % 16 === 0 ? 4 : 1);
    }
  }
  return x;
}

function outputError(x: Float32Array, n: number, cols: number, w: Float32Array, q: Float32Array, rows: number): number {
  let err = 0;
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < rows; r++) {
      let d = 0;
      for (let c = 0; c < cols; c++) d += x[t * cols + c]! * (w[r * cols + c]! - q[r * cols + c]!);
      err += d * d;
    }
  }
  return err;
}

describe('HessianAccumulator', () => {
  it('equals (2/N)·XᵀX however the rows are batched', () => {
    const x = correlatedInputs(10, 5, 1);
    const whole = new HessianAccumulator(5);
    whole.add(x);
    const split = new HessianAccumulator(5);
    split.add(x.subarray(0, 15));
    split.add(x.subarray(15));
    const h = whole.hessian();
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let t = 0; t < 10; t++) s += x[t * 5 + i]! * x[t * 5 + j]!;
        expect(h[i * 5 + j]).toBeCloseTo((2 / 10) * s, 9);
        expect(split.hessian()[i * 5 + j]).toBeCloseTo(h[i * 5 + j]!, 9);
      }
    }
  });
});

describe('inverseUpperCholesky', () => {
  it('returns U with UᵀU = H⁻¹', () => {
    const n = 6;
    const acc = new HessianAccumulator(n);
    acc.add(correlatedInputs(40, n, 2));
    const h = acc.hessian();
    const u = inverseUpperCholesky(h, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    // H · (UᵀU) = I
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) {
          let hinv = 0;
          for (let m = 0; m < n; m++) hinv += u[m * n + k]! * u[m * n + j]!;
          s += h[i * n + k]! * hinv;
        }
        expect(s).toBeCloseTo(i === j ? 1 : 0, 6);
      }
    }
  });

  it('rejects a matrix that is not positive definite', () => {
    expect(() => inverseUpperCholesky(Float64Array.from([1, 2, 2, 1]), 2, 'w')).toThrow(/not positive definite/);
  });
});

describe('gptqQuantizeInt4', () => {
  const rows = 24;
  const cols = 128;
  const n = 512;
  const x = correlatedInputs(n, cols, 3);
  const w = new SeededRandom(4).normalArray(rows * cols, 0.05);
  const acc = new HessianAccumulator(cols);
  acc.add(x);
  const hessian = acc.hessian();

  for (const symmetric of [true, false]) {
    it(`has a lower layer-output error than round-to-nearest (${symmetric ? 'sym' : 'asym'}, g32)`, () => {
      const rtn = dequantize(quantizeInt4({ data: w, rows, cols, groupSize: 32, symmetric }));
      const gptq = dequantize(gptqQuantizeInt4({ data: w, rows, cols, groupSize: 32, symmetric, hessian }));
      const eRtn = outputError(x, n, cols, w, rtn, rows);
      const eGptq = outputError(x, n, cols, w, gptq, rows);
      expect(eGptq).toBeLessThan(0.8 * eRtn);
    });
  }

  it('equals round-to-nearest when the Hessian is diagonal (no error to feed forward)', () => {
    const diag = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) diag[i * cols + i] = 2;
    const g = gptqQuantizeInt4({ data: w, rows, cols, groupSize: 64, symmetric: true, hessian: diag, blockSize: 32 });
    const r = quantizeInt4({ data: w, rows, cols, groupSize: 64, symmetric: true });
    expect([...g.packed]).toEqual([...r.packed]);
    expect([...g.scales]).toEqual([...r.scales]);
  });

  it('zeroes columns that calibration never activated', () => {
    const h = Float64Array.from(hessian);
    for (let j = 0; j < cols; j++) {
      h[5 * cols + j] = 0;
      h[j * cols + 5] = 0;
    }
    const q = dequantize(gptqQuantizeInt4({ data: w, rows, cols, groupSize: 32, symmetric: false, hessian: h }));
    for (let r = 0; r < rows; r++) expect(q[r * cols + 5]).toBeCloseTo(0, 6);
  });

  it('rejects a Hessian of the wrong size', () => {
    expect(() => gptqQuantizeInt4({ data: w, rows, cols, groupSize: 32, symmetric: true, hessian: new Float64Array(4), name: 'l.weight' })).toThrow(
      /l\.weight: Hessian has 4 entries/,
    );
  });
});
