import { tf } from '@deepline/core';
import type { DeepseekModel, Linear } from '@deepline/layers';
import { fail } from './errors.js';
import { gptqQuantizeInt4 } from './gptq.js';
import { HessianAccumulator } from './hessian.js';
import { type ActivationQuant, QuantizedLinear } from './quantizedLinear.js';
import { type QuantizedWeight, quantizedBytes } from './quantizedWeight.js';
import { quantizeInt4, quantizeInt8 } from './rtn.js';
import { DEFAULT_FLOAT_RULES, type QuantRule, type QuantScheme, parseScheme, schemeFor } from './scheme.js';

/** Options of {@link quantizeModel}. */
export interface QuantizeModelOptions {
  /** The model; its Linear layers are replaced in place. */
  model: DeepseekModel;
  /** Default scheme (name or parsed) for every Linear no rule keeps in float. */
  scheme: QuantScheme | string;
  /** Extra rules, checked before the defaults (embeddings, norms, router stay float32). */
  rules?: readonly QuantRule[];
  /** Token sequences the GPTQ Hessians are measured on (required when any weight uses GPTQ). */
  calibration?: readonly (readonly number[])[];
  /** Dynamic int8 activation quantization in every quantized matmul (default 'none'). */
  activation?: ActivationQuant;
  /** GPTQ diagonal damping as a fraction of the mean diagonal (default 0.01). */
  dampPercent?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One quantized weight in the result. */
export interface QuantizedTensorInfo {
  name: string;
  scheme: string;
  /** Packed bytes (codes + scales + zeros) vs float32 bytes. */
  bytes: number;
  floatBytes: number;
  /** 'gptq' or 'rtn' (GPTQ falls back to RTN for weights that saw no calibration token). */
  method: 'rtn' | 'gptq';
}

/** What {@link quantizeModel} did. */
export interface QuantizeModelResult {
  quantized: QuantizedTensorInfo[];
  /** Linears left in float32 (by rule, or because their width does not fit the group size). */
  kept: { name: string; reason: string }[];
}

/** Quantizes one float32 `[rows, cols]` weight under a scheme (GPTQ needs the Hessian). */
export function quantizeWeight(options: {
  name: string;
  data: Float32Array;
  rows: number;
  cols: number;
  scheme: QuantScheme;
  hessian?: Float64Array;
  dampPercent?: number;
}): QuantizedWeight {
  const { name, data, rows, cols, scheme } = options;
  if (scheme.bits === 8) return quantizeInt8({ name, data, rows, cols });
  const groupSize = scheme.groupSize ?? 32;
  if (scheme.method === 'gptq' && options.hessian) {
    return gptqQuantizeInt4({ name, data, rows, cols, groupSize, symmetric: scheme.symmetric, hessian: options.hessian, dampPercent: options.dampPercent });
  }
  return quantizeInt4({ name, data, rows, cols, groupSize, symmetric: scheme.symmetric });
}

/** Linear wrapper that accumulates the GPTQ Hessian of its inputs while computing normally. */
class RecordingLinear implements Linear {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly hessian: HessianAccumulator;

  constructor(readonly inner: Linear) {
    this.name = inner.name;
    this.inFeatures = inner.inFeatures;
    this.outFeatures = inner.outFeatures;
    this.hessian = new HessianAccumulator(inner.inFeatures);
  }

  apply(x: tf.Tensor): tf.Tensor {
    this.hessian.add(x.dataSync() as Float32Array);
    return this.inner.apply(x);
  }

  weightMatrix(): tf.Tensor2D {
    return this.inner.weightMatrix();
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    this.inner.dispose();
  }
}

interface Plan {
  name: string;
  scheme: QuantScheme;
}

function planModel(model: DeepseekModel, scheme: QuantScheme, rules: readonly QuantRule[]): { plans: Plan[]; kept: QuantizeModelResult['kept'] } {
  const plans: Plan[] = [];
  const kept: QuantizeModelResult['kept'] = [];
  const all = [...rules, ...DEFAULT_FLOAT_RULES];
  for (const [name, linear] of model.linears()) {
    if (linear instanceof QuantizedLinear) fail('ALREADY_QUANTIZED', `linear '${name}' is already quantized`, { tensor: name });
    const s = schemeFor(name, all, scheme);
    if (s === 'float') {
      kept.push({ name, reason: 'rule' });
      continue;
    }
    if (s.bits === 4 && linear.inFeatures % (s.groupSize ?? 32) !== 0) {
      kept.push({ name, reason: `${linear.inFeatures} input features not a multiple of group size ${s.groupSize}` });
      continue;
    }
    plans.push({ name, scheme: s });
  }
  return { plans, kept };
}

/** Block key of a weight: its decoder block index, or past the last block for the head. */
function stageOf(name: string, nLayers: number): number {
  const m = /^model\.layers\.(\d+)\./.exec(name);
  if (m) return Number(m[1]) < nLayers ? Number(m[1]) : nLayers + 1;
  return nLayers;
}

/**
 * Replaces the model's Linear layers by packed QuantizedLinear ones. GPTQ runs block by
 * block: calibration tokens flow through the model with earlier blocks already quantized,
 * so each block compensates the error of those before it. Weights no calibration token
 * reaches (unused experts, MTP blocks) fall back to round-to-nearest.
 */
export function quantizeModel(options: QuantizeModelOptions): QuantizeModelResult {
  const { model } = options;
  const scheme = typeof options.scheme === 'string' ? parseScheme(options.scheme) : options.scheme;
  const { plans, kept } = planModel(model, scheme, options.rules ?? []);
  const needsCalibration = plans.some((p) => p.scheme.method === 'gptq');
  const calibration = options.calibration ?? [];
  if (needsCalibration && calibration.length === 0) {
    fail('CALIBRATION_REQUIRED', `scheme '${scheme.name}' uses GPTQ and needs calibration token sequences`, { field: 'calibration' });
  }
  const stages = new Map<number, Plan[]>();
  for (const p of plans) {
    const stage = needsCalibration ? stageOf(p.name, model.config.nLayers) : 0;
    stages.set(stage, [...(stages.get(stage) ?? []), p]);
  }
  const quantized: QuantizedTensorInfo[] = [];
  for (const stage of [...stages.keys()].sort((a, b) => a - b)) {
    const group = stages.get(stage)!;
    const recorders = new Map<string, RecordingLinear>();
    if (needsCalibration && stage <= model.config.nLayers) {
      for (const p of group) {
        if (p.scheme.method !== 'gptq') continue;
        const rec = new RecordingLinear(model.linears().get(p.name)!);
        model.replaceLinear(p.name, rec, { disposeOld: false });
        recorders.set(p.name, rec);
      }
      if (recorders.size > 0) runCalibration(model, calibration);
    }
    for (const p of group) {
      const linear = model.linears().get(p.name)!;
      const rec = recorders.get(p.name);
      const data = tf.tidy(() => Float32Array.from(linear.weightMatrix().dataSync() as Float32Array));
      const hessian = rec && rec.hessian.count > 0 ? rec.hessian.hessian() : undefined;
      const weight = quantizeWeight({ name: p.name, data, rows: linear.outFeatures, cols: linear.inFeatures, scheme: p.scheme, hessian, dampPercent: options.dampPercent });
      model.replaceLinear(p.name, new QuantizedLinear({ name: p.name, weight, activation: options.activation }));
      quantized.push({
        name: p.name,
        scheme: p.scheme.name,
        bytes: quantizedBytes(weight),
        floatBytes: data.length * 4,
        method: hessian ? 'gptq' : 'rtn',
      });
    }
    options.log?.(`quantized stage ${stage}: ${group.length} weight(s)`);
  }
  return { quantized, kept };
}

function runCalibration(model: DeepseekModel, calibration: readonly (readonly number[])[]): void {
  for (const seq of calibration) {
    if (seq.length === 0) continue;
    // Naive attention applies kv_b_proj to the latent, so its inputs are recorded too.
    const out = tf.tidy(() => model.forward(tf.tensor2d([seq as number[]], [1, seq.length], 'int32'), { attention: 'naive' }).logits);
    out.dispose();
  }
}
