import { readFile, rename, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type RawTensor, type TensorToWrite, readSafetensorsDir, tf, toFloat32, writeSafetensorsDir } from '@deepline/core';
import { DeepseekModel, type HostTensor, type LoadModelOptions, fromHfConfig, modelWeightSpecs, toHfConfig } from '@deepline/layers';
import { fail } from './errors.js';
import { type ActivationQuant, QuantizedLinear } from './quantizedLinear.js';
import { dequantize } from './dequantize.js';
import type { QuantizedWeight } from './quantizedWeight.js';
import { quantizeInt8 } from './rtn.js';

/**
 * `quantization_config` written into config.json. `weights` lists every packed Linear; a
 * weight `<base>.weight` is stored as:
 * - `<base>.qweight`: int8 → I8 `[out, in]`; int4 → U8 `[out, in/2]`, two codes per byte,
 *   the even input column in the low nibble;
 * - `<base>.scales`: F16 `[out]` (int8) or `[out, in/group_size]` (int4);
 * - `<base>.zeros`: U8 `[out, in/group_size]` (asymmetric int4 only; symmetric zero is 8).
 * Dequantization: int8 `q·s`; int4 `(q − zero)·s`.
 */
export interface QuantizationConfig {
  quant_method: 'deepline';
  format_version: 1;
  /** The default scheme name the model was quantized with. */
  scheme: string;
  /** Dynamic activation quantization of the matmuls. */
  activation: ActivationQuant;
  /**
   * Storage of `model.embed_tokens.weight`: `float32`, or `int8` on disk only (per-row
   * `.qweight` I8 `[V, D]` + `.scales` F16 `[V]`, expanded to float32 when loaded).
   */
  embeddings?: 'float32' | 'int8';
  weights: Record<string, { bits: 8 | 4; group_size?: number; sym: boolean }>;
}

/** Options of {@link saveQuantizedModel}. */
export interface SaveQuantizedOptions {
  model: DeepseekModel;
  /** Output directory (created). */
  dir: string;
  /** Scheme name recorded in quantization_config (default: the first packed weight's). */
  scheme?: string;
  /** Store the token embedding as per-row int8 on disk (default 'float32'; in memory it stays float32). */
  embeddings?: 'float32' | 'int8';
}

const EMBED = 'model.embed_tokens.weight';

/** Stored name base of a weight: `….o_proj.weight` → `….o_proj`. */
function baseName(name: string): string {
  return name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : name;
}

/** Writes config.json (+ quantization_config) and model.safetensors with packed weights. Returns the bytes on disk. */
export async function saveQuantizedModel(options: SaveQuantizedOptions): Promise<{ files: string[]; bytes: number }> {
  const { model, dir } = options;
  const tensors: Record<string, TensorToWrite> = {};
  const weights: QuantizationConfig['weights'] = {};
  let activation: ActivationQuant = 'none';
  let scheme = options.scheme;
  const linears = model.linears();
  for (const [name, linear] of linears) {
    if (!(linear instanceof QuantizedLinear)) {
      const data = tf.tidy(() => Float32Array.from(linear.weightMatrix().dataSync() as Float32Array));
      tensors[name] = { dtype: 'F32', shape: [linear.outFeatures, linear.inFeatures], data };
      continue;
    }
    const w = linear.weight;
    activation = linear.activation;
    const base = baseName(name);
    if (w.format === 'int8') {
      tensors[`${base}.qweight`] = { dtype: 'I8', shape: [w.rows, w.cols], data: w.q };
      tensors[`${base}.scales`] = { dtype: 'F16', shape: [w.rows], data: w.scales };
      weights[name] = { bits: 8, sym: true };
      scheme ??= 'int8';
    } else {
      const groups = w.cols / w.groupSize;
      tensors[`${base}.qweight`] = { dtype: 'U8', shape: [w.rows, w.cols / 2], data: w.packed };
      tensors[`${base}.scales`] = { dtype: 'F16', shape: [w.rows, groups], data: w.scales };
      if (!w.symmetric) tensors[`${base}.zeros`] = { dtype: 'U8', shape: [w.rows, groups], data: w.zeros };
      weights[name] = { bits: 4, group_size: w.groupSize, sym: w.symmetric };
      scheme ??= `int4-g${w.groupSize}${w.symmetric ? '' : '-asym'}`;
    }
  }
  const embeddings = options.embeddings ?? 'float32';
  for (const [name, v] of [...model.namedWeights(), ...model.correctionBiases()]) {
    if (linears.has(name)) continue;
    const data = Float32Array.from(v.dataSync() as Float32Array);
    if (name === EMBED && embeddings === 'int8') {
      const [rows, cols] = v.shape as [number, number];
      const q = quantizeInt8({ name, data, rows, cols });
      tensors[`${baseName(name)}.qweight`] = { dtype: 'I8', shape: [rows, cols], data: q.q };
      tensors[`${baseName(name)}.scales`] = { dtype: 'F16', shape: [rows], data: q.scales };
      continue;
    }
    tensors[name] = { dtype: 'F32', shape: [...v.shape], data };
  }
  const quantization: QuantizationConfig = { quant_method: 'deepline', format_version: 1, scheme: scheme ?? 'none', activation, embeddings, weights };
  await mkdir(dir, { recursive: true });
  const files = await writeSafetensorsDir(dir, tensors, { metadata: { format: 'deepline-quantized' } });
  const configPath = join(dir, 'config.json');
  await writeFile(`${configPath}.tmp`, `${JSON.stringify({ ...toHfConfig(model.config), quantization_config: quantization }, null, 2)}\n`);
  await rename(`${configPath}.tmp`, configPath);
  const all = ['config.json', ...files];
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dir, f))).size;
  return { files: all, bytes };
}

/** Reads `<dir>/config.json` and returns its quantization_config, or undefined for a float model. */
export async function readQuantizationConfig(dir: string): Promise<QuantizationConfig | undefined> {
  const path = join(dir, 'config.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    return fail('MODEL_DIR', `cannot read ${path}: ${(cause as Error).message}`, { file: path });
  }
  const q = json.quantization_config as QuantizationConfig | undefined;
  if (q === undefined) return undefined;
  if (q.quant_method !== 'deepline' || q.format_version !== 1 || typeof q.weights !== 'object' || q.weights === null) {
    fail('QUANT_CONFIG', `${path}: quantization_config is not a deepline v1 config (quant_method ${JSON.stringify(q.quant_method)})`, {
      file: path,
      field: 'quantization_config',
    });
  }
  return q;
}

function rawTensor(raw: Map<string, RawTensor>, name: string, dir: string, dtype: string, shape: number[]): RawTensor {
  const t = raw.get(name);
  if (!t) fail('WEIGHT_MISSING', `${dir}: packed tensor '${name}' is missing`, { file: dir, tensor: name });
  if (t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail('WEIGHT_SHAPE', `${dir}: '${name}' is ${t.dtype}[${t.shape.join(', ')}], expected ${dtype}[${shape.join(', ')}]`, {
      file: dir,
      tensor: name,
      shape: t.shape,
    });
  }
  return t;
}

function unpackStored(raw: Map<string, RawTensor>, name: string, spec: QuantizationConfig['weights'][string], shape: number[], dir: string): QuantizedWeight {
  const [rows, cols] = shape as [number, number];
  const base = baseName(name);
  if (spec.bits === 8) {
    const q = rawTensor(raw, `${base}.qweight`, dir, 'I8', [rows, cols]);
    const s = rawTensor(raw, `${base}.scales`, dir, 'F16', [rows]);
    return { format: 'int8', rows, cols, q: new Int8Array(Uint8Array.from(q.bytes).buffer), scales: toFloat32(s) };
  }
  const groupSize = spec.group_size ?? 0;
  if (spec.bits !== 4 || !(groupSize > 0) || cols % groupSize !== 0) {
    fail('QUANT_CONFIG', `${dir}: quantization_config.weights['${name}'] has bits ${spec.bits} / group_size ${spec.group_size} unusable for [${rows}, ${cols}]`, {
      file: dir,
      tensor: name,
    });
  }
  const groups = cols / groupSize;
  const packed = rawTensor(raw, `${base}.qweight`, dir, 'U8', [rows, cols / 2]);
  const scales = toFloat32(rawTensor(raw, `${base}.scales`, dir, 'F16', [rows, groups]));
  const zeros = spec.sym ? new Uint8Array(rows * groups).fill(8) : Uint8Array.from(rawTensor(raw, `${base}.zeros`, dir, 'U8', [rows, groups]).bytes);
  return { format: 'int4', rows, cols, groupSize, symmetric: spec.sym, packed: Uint8Array.from(packed.bytes), scales, zeros };
}

/**
 * Loads a directory written by saveQuantizedModel (or a plain float model directory): float
 * tensors as usual, packed weights straight into QuantizedLinear layers (never expanded).
 */
export async function loadQuantizedModel(dir: string, options: LoadModelOptions = {}): Promise<DeepseekModel> {
  const quant = await readQuantizationConfig(dir);
  if (!quant) return DeepseekModel.load(dir, options);
  const configPath = join(dir, 'config.json');
  const config = fromHfConfig(JSON.parse(await readFile(configPath, 'utf8')), { source: configPath });
  const raw = (await readSafetensorsDir(dir)).tensors;
  const specs = modelWeightSpecs(config);
  const shapes = new Map(specs.map((s) => [s.name, s.shape]));
  for (const name of Object.keys(quant.weights)) {
    if (!shapes.has(name)) fail('WEIGHT_UNKNOWN', `${dir}: quantization_config names unknown weight '${name}'`, { file: dir, tensor: name });
  }
  // Packed linears get a zero placeholder view (one shared buffer) until they are replaced.
  const maxCount = Math.max(0, ...Object.keys(quant.weights).map((n) => shapes.get(n)!.reduce((a, b) => a * b, 1)));
  const zeros = new Float32Array(maxCount);
  const tensors = new Map<string, HostTensor>();
  for (const spec of specs) {
    if (quant.weights[spec.name]) {
      tensors.set(spec.name, { shape: spec.shape, data: zeros.subarray(0, spec.shape.reduce((a, b) => a * b, 1)) });
      continue;
    }
    if (spec.name === EMBED && quant.embeddings === 'int8') {
      const weight = unpackStored(raw, EMBED, { bits: 8, sym: true }, spec.shape, dir);
      tensors.set(EMBED, { shape: spec.shape, data: dequantize(weight) });
      continue;
    }
    const t = raw.get(spec.name);
    if (!t) fail('WEIGHT_MISSING', `${dir}: tensor '${spec.name}' is missing`, { file: dir, tensor: spec.name });
    tensors.set(spec.name, { shape: t.shape, data: toFloat32(t) });
  }
  const model = DeepseekModel.fromTensors(config, tensors, options);
  try {
    for (const [name, spec] of Object.entries(quant.weights)) {
      const weight = unpackStored(raw, name, spec, shapes.get(name)!, dir);
      model.replaceLinear(name, new QuantizedLinear({ name, weight, activation: quant.activation ?? 'none' }));
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
