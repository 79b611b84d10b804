import { tf } from '@deepline/core';
import type { Linear } from '@deepline/layers';
import { dequantize } from './dequantize.js';
import { fail } from './errors.js';
import { packedGemv, quantizeActivationsInt8 } from './gemv.js';
import type { QuantizedWeight } from './quantizedWeight.js';

/** Activation handling of a quantized matmul: float32, or dynamic per-token int8. */
export type ActivationQuant = 'none' | 'int8';

/**
 * Kernel names `@deepline/kernels-wasm` registers for tfjs-wasm (same packing as ours:
 * int8 bytes / int4 nibbles low-first, row-major `[out, in]`, viewed as int32). The `*Gemv`
 * kernels (same inputs) stream the packed bytes with SIMD for decode-sized inputs; the
 * `*Dequantize` kernels (weight inputs only) return the float32 weight.
 */
export const WASM_QUANT_KERNELS = {
  int8: 'DeeplineInt8MatMul',
  int4: 'DeeplineInt4MatMul',
  int8Gemv: 'DeeplineInt8Gemv',
  int4Gemv: 'DeeplineInt4Gemv',
  int8Dequantize: 'DeeplineInt8Dequantize',
  int4Dequantize: 'DeeplineInt4Dequantize',
} as const;

/** Options of QuantizedLinear. */
export interface QuantizedLinearOptions {
  /** HF weight name. */
  name: string;
  /** The packed weight (`rows` = out features, `cols` = in features). */
  weight: QuantizedWeight;
  /** Dynamic int8 activation quantization (default 'none'). */
  activation?: ActivationQuant;
  /** Up to this many rows (tokens) the product is computed straight from the packed codes (default 8). */
  gemvMaxRows?: number;
  /** Use the fused wasm kernels when registered (default true). */
  useKernels?: boolean;
}

/** Which code path the last apply used (for tests and reports). */
export type QuantizedPath = 'kernel' | 'kernel-gemv' | 'gemv' | 'dequantize-matmul';

/**
 * A frozen Linear whose weight stays packed (int8 or int4 + scales/zeros). `apply` picks:
 * for a few rows (decode) the wasm SIMD GEMV kernel when registered, else a JS GEMV over the
 * packed codes for int4; the fused wasm kernel when
 * `@deepline/kernels-wasm` has registered it on the active wasm backend; a GEMV for a few
 * rows otherwise; else a just-in-time dequantized float32 copy that lives only for that one
 * matmul (prefill).
 */
export class QuantizedLinear implements Linear {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: QuantizedWeight;
  readonly activation: ActivationQuant;
  lastPath: QuantizedPath | undefined;
  private readonly gemvMaxRows: number;
  private readonly useKernels: boolean;
  private kernelInputs: tf.NamedTensorMap | undefined;

  constructor(options: QuantizedLinearOptions) {
    const { weight } = options;
    this.name = options.name;
    this.weight = weight;
    this.outFeatures = weight.rows;
    this.inFeatures = weight.cols;
    this.activation = options.activation ?? 'none';
    if (this.activation !== 'none' && this.activation !== 'int8') {
      fail('BAD_OPTION', `activation must be 'none' or 'int8', got ${JSON.stringify(this.activation)}`, { field: 'activation', tensor: this.name });
    }
    this.gemvMaxRows = options.gemvMaxRows ?? 8;
    this.useKernels = options.useKernels ?? true;
  }

  apply(x: tf.Tensor): tf.Tensor {
    const cols = this.inFeatures;
    if (x.shape[x.shape.length - 1] !== cols) {
      fail('SHAPE_MISMATCH', `${this.name}: input [${x.shape.join(', ')}] does not end in ${cols}`, { tensor: this.name, shape: [...x.shape] });
    }
    const lead = x.shape.slice(0, -1);
    const m = lead.reduce((a, b) => a * b, 1);
    // Measured on tfjs-wasm: for a few rows the SIMD GEMV kernel beats everything; without
    // it the table-driven JS int4 GEMV beats the fused kernel (which dequantizes whole
    // panels); for int8 and for prefill-sized inputs the fused kernel wins.
    const gemvKernel = m <= this.gemvMaxRows ? this.simdKernelName('gemv') : undefined;
    const preferGemv = this.weight.format === 'int4' && m <= this.gemvMaxRows;
    const kernel = gemvKernel ?? (preferGemv ? undefined : this.kernelName());
    if (kernel && this.activation === 'none') {
      this.lastPath = gemvKernel ? 'kernel-gemv' : 'kernel';
      return tf.tidy(() => tf.engine().runKernel(kernel, { x, ...this.kernelTensors() }, this.kernelAttrs()) as tf.Tensor);
    }
    let data = x.dataSync() as Float32Array;
    let rowScales: Float32Array | undefined;
    if (this.activation === 'int8') {
      const q = quantizeActivationsInt8(data, m, cols);
      data = q.codes;
      rowScales = q.scales;
    }
    if (m <= this.gemvMaxRows) {
      this.lastPath = 'gemv';
      const y = new Float32Array(m * this.outFeatures);
      packedGemv(this.weight, data, m, y);
      if (rowScales) for (let t = 0; t < m; t++) for (let r = 0; r < this.outFeatures; r++) y[t * this.outFeatures + r] *= rowScales[t]!;
      return tf.tensor(y, [...lead, this.outFeatures], 'float32');
    }
    this.lastPath = 'dequantize-matmul';
    const input = rowScales ? rescaleRows(data, rowScales, cols) : data;
    return tf.tidy(() => {
      // The float32 weight exists only inside this scope.
      const w = tf.tensor2d(dequantize(this.weight), [this.outFeatures, cols]);
      const y = tf.matMul(tf.tensor2d(input, [m, cols]), w, false, true);
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }

  weightMatrix(): tf.Tensor2D {
    // MLA's absorbed decode path asks for kv_b's matrix every step: dequantize on the heap.
    const kernel = this.simdKernelName('dequantize');
    if (kernel) return tf.engine().runKernel(kernel, this.kernelTensors(), this.kernelAttrs()) as tf.Tensor2D;
    return tf.tensor2d(dequantize(this.weight), [this.outFeatures, this.inFeatures]);
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    if (this.kernelInputs) for (const t of Object.values(this.kernelInputs)) t.dispose();
    this.kernelInputs = undefined;
  }

  private kernelName(): string | undefined {
    if (!this.useKernels || tf.getBackend() !== 'wasm') return undefined;
    const w = this.weight;
    const name = w.format === 'int8' ? WASM_QUANT_KERNELS.int8 : WASM_QUANT_KERNELS.int4;
    if (w.format === 'int8' ? w.cols % 4 !== 0 : w.cols % 8 !== 0) return undefined;
    return tf.getKernel(name, 'wasm') ? name : undefined;
  }

  /** The SIMD GEMV / dequantize kernel's name when registered and the weight fits its blocking. */
  private simdKernelName(kind: 'gemv' | 'dequantize'): string | undefined {
    if (!this.useKernels || tf.getBackend() !== 'wasm') return undefined;
    const w = this.weight;
    // 16 packed bytes per SIMD step: int8 needs in % 16, int4 whole 32-weight steps per group.
    if (w.format === 'int8' ? w.cols % 16 !== 0 : w.groupSize % 32 !== 0) return undefined;
    const names = kind === 'gemv' ? [WASM_QUANT_KERNELS.int8Gemv, WASM_QUANT_KERNELS.int4Gemv] : [WASM_QUANT_KERNELS.int8Dequantize, WASM_QUANT_KERNELS.int4Dequantize];
    const name = w.format === 'int8' ? names[0]! : names[1]!;
    return tf.getKernel(name, 'wasm') ? name : undefined;
  }

  private kernelAttrs(): tf.NamedAttrMap {
    return this.weight.format === 'int4' ? { groupSize: this.weight.groupSize } : {};
  }

  /** The packed weight as backend tensors (created once, kept across tidy scopes). */
  private kernelTensors(): tf.NamedTensorMap {
    if (this.kernelInputs) return this.kernelInputs;
    const w = this.weight;
    const inputs: tf.NamedTensorMap =
      w.format === 'int8'
        ? {
            qweight: tf.tensor2d(new Int32Array(new Int8Array(w.q).buffer), [w.rows, w.cols / 4], 'int32'),
            scales: tf.tensor1d(w.scales),
          }
        : {
            packed: tf.tensor2d(new Int32Array(new Uint8Array(w.packed).buffer), [w.rows, w.cols / 8], 'int32'),
            scales: tf.tensor2d(w.scales, [w.rows, w.cols / w.groupSize]),
            zeros: tf.tensor2d(Float32Array.from(w.zeros), [w.rows, w.cols / w.groupSize]),
          };
    for (const t of Object.values(inputs)) tf.keep(t);
    this.kernelInputs = inputs;
    return inputs;
  }
}

function rescaleRows(codes: Float32Array, scales: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i]! * scales[Math.floor(i / cols)]!;
  return out;
}
