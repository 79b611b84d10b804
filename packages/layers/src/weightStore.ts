import { tf } from '@deepline/core';
import { LayersError } from './errors.js';
import { DenseLinear, type Linear, uniqueVariableName } from './linear.js';

/**
 * Owns every weight of a model under its HF name: Linear projections, other trainable
 * parameters (embedding, norms) and non-trainable buffers (gate correction biases).
 * Modules look weights up by name at call time, so swapping a Linear is one map update.
 */
export class WeightStore {
  private readonly linears = new Map<string, Linear>();
  private readonly params = new Map<string, tf.Variable>();
  private readonly buffers = new Map<string, tf.Variable>();

  /** Registers a float32 [out, in] projection as a DenseLinear. */
  addLinear(name: string, weight: tf.Tensor2D): void {
    this.assertNew(name);
    this.linears.set(name, new DenseLinear({ name, weight }));
  }

  /** Registers a trainable parameter (embedding, norm weight, MTP projection…). */
  addParam(name: string, value: tf.Tensor): void {
    this.assertNew(name);
    this.params.set(name, tf.variable(value, true, uniqueVariableName(name)));
  }

  /** Registers a non-trainable buffer (gate correction bias). */
  addBuffer(name: string, value: tf.Tensor): void {
    this.assertNew(name);
    this.buffers.set(name, tf.variable(value, false, uniqueVariableName(name)));
  }

  linear(name: string): Linear {
    const l = this.linears.get(name);
    if (!l) throw missing(name, 'linear');
    return l;
  }

  param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw missing(name, 'parameter');
    return p;
  }

  buffer(name: string): tf.Variable {
    const b = this.buffers.get(name);
    if (!b) throw missing(name, 'buffer');
    return b;
  }

  hasLinear(name: string): boolean {
    return this.linears.has(name);
  }

  /** Replaces a Linear (same name and shape); disposes the old implementation unless told not to. */
  replaceLinear(name: string, impl: Linear, options: { disposeOld?: boolean } = {}): Linear {
    const old = this.linear(name);
    if (impl.inFeatures !== old.inFeatures || impl.outFeatures !== old.outFeatures) {
      throw new LayersError(
        `replacement for linear '${name}' is [${impl.outFeatures}, ${impl.inFeatures}] but the layer is [${old.outFeatures}, ${old.inFeatures}]`,
        {
          code: 'LINEAR_SHAPE',
          context: { tensor: name, expectedShape: [old.outFeatures, old.inFeatures], actualShape: [impl.outFeatures, impl.inFeatures] },
        },
      );
    }
    this.linears.set(name, impl);
    if (options.disposeOld ?? true) old.dispose();
    return old;
  }

  linearEntries(): Map<string, Linear> {
    return new Map(this.linears);
  }

  /** Trainable variables by HF name, in registration order (deterministic). */
  trainable(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, p] of this.params) if (p.trainable) out.set(name, p);
    for (const [name, l] of this.linears) {
      const vars = l.trainableVariables();
      if (vars.length === 1) out.set(name, vars[0]!);
      else for (const [i, v] of vars.entries()) out.set(`${name}:${i}`, v);
    }
    return sortByName(out);
  }

  /** Trainable variables behind `names` (linears and params; buffers and frozen weights skipped), in order. */
  trainableOf(names: string[]): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const name of names) {
      const l = this.linears.get(name);
      if (l) out.push(...l.trainableVariables());
      const p = this.params.get(name);
      if (p?.trainable) out.push(p);
    }
    return out;
  }

  /** Every weight name under `prefix` (e.g. `model.layers.0.self_attn` → its projections and norms). */
  namesUnder(prefix: string): string[] {
    return this.names().filter((name) => name.startsWith(`${prefix}.`));
  }

  bufferEntries(): Map<string, tf.Variable> {
    return new Map(this.buffers);
  }

  /** Every tensor to save, by HF name: linears (as float32 matrices), params and buffers. */
  names(): string[] {
    return [...this.params.keys(), ...this.linears.keys(), ...this.buffers.keys()].sort(compareNames);
  }

  dispose(): void {
    for (const l of this.linears.values()) l.dispose();
    for (const p of this.params.values()) p.dispose();
    for (const b of this.buffers.values()) b.dispose();
    this.linears.clear();
    this.params.clear();
    this.buffers.clear();
  }

  private assertNew(name: string): void {
    if (this.linears.has(name) || this.params.has(name) || this.buffers.has(name)) {
      throw new LayersError(`weight '${name}' registered twice`, { code: 'WEIGHT_DUPLICATE', context: { tensor: name } });
    }
  }
}

function missing(name: string, kind: string): LayersError {
  return new LayersError(`no ${kind} named '${name}'`, { code: 'WEIGHT_UNKNOWN', context: { tensor: name } });
}

/** Orders names with numeric components compared as numbers (layers.2 before layers.10). */
export function compareNames(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isInteger(nx) && Number.isInteger(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function sortByName<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map.entries()].sort((a, b) => compareNames(a[0], b[0])));
}
