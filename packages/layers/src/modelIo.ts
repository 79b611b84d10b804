import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type RawTensor, type SafetensorsDtype, type TensorToWrite, readSafetensorsDir, toFloat32, writeSafetensorsDir } from '@deepline/core';
import type { DeepseekConfig } from './config.js';
import { LayersError } from './errors.js';
import { fromHfConfig, toHfConfig } from './hfConfig.js';
import { modelPyToHfName, usesModelPyNames } from './weightNames.js';
import { mtpPrefix } from './weightSpecs.js';

/** A float32 tensor on the host. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Options of DeepseekModel.save / writeModelDir. */
export interface SaveModelOptions {
  /** Storage dtype of every tensor (default F32). */
  dtype?: 'F32' | 'BF16' | 'F16';
  /** Shard into model-0000i-of-0000n.safetensors + index when larger than this. */
  maxShardBytes?: number;
}

const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** Reads and validates `<dir>/config.json`. */
export async function readHfConfigFile(dir: string): Promise<DeepseekConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new LayersError(`cannot read ${path}: ${(cause as Error).message}`, { code: 'MODEL_DIR', context: { file: path }, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LayersError(`${path}: not valid JSON (${(cause as Error).message})`, { code: 'CONFIG_INVALID', context: { file: path }, cause });
  }
  return fromHfConfig(json, { source: path });
}

/**
 * Loads config and tensors of an HF model directory, translating model.py names, dropping
 * the MTP copies of embedding/head, and decoding F16/BF16 to float32. When the config has
 * MTP modules but the checkpoint has none of their tensors (convert.py drops them), the
 * returned config has nMtpModules reduced to what is present.
 */
export async function readModelDir(dir: string): Promise<{ config: DeepseekConfig; tensors: Map<string, HostTensor> }> {
  const config = await readHfConfigFile(dir);
  const raw = (await readSafetensorsDir(dir)).tensors;
  const modelPy = usesModelPyNames(raw.keys());
  const tensors = new Map<string, HostTensor>();
  for (const [stored, tensor] of raw) {
    const name = modelPy ? modelPyToHfName(stored) : stored;
    if (name === undefined) {
      throw new LayersError(`${dir}: unknown model.py tensor '${stored}'`, { code: 'WEIGHT_UNKNOWN', context: { file: dir, tensor: stored } });
    }
    if (name.endsWith('.weight_scale_inv') || name.endsWith('.scale')) {
      throw new LayersError(`${dir}: tensor '${stored}' is an fp8 scale; dequantize the checkpoint to BF16/F32 first`, {
        code: 'WEIGHT_DTYPE',
        context: { file: dir, tensor: stored },
      });
    }
    if (name.endsWith('.rotary_emb.inv_freq') || isMtpCopy(config, name)) continue;
    tensors.set(name, { shape: tensor.shape, data: decodeFloat(dir, stored, tensor) });
  }
  let present = 0;
  while (present < config.nMtpModules && [...tensors.keys()].some((n) => n.startsWith(`${mtpPrefix(config, present)}.`))) present++;
  return { config: { ...config, nMtpModules: present }, tensors };
}

function isMtpCopy(config: DeepseekConfig, name: string): boolean {
  for (let k = 0; k < config.nMtpModules; k++) {
    const p = mtpPrefix(config, k);
    if (name === `${p}.embed_tokens.weight` || name === `${p}.shared_head.head.weight`) return true;
  }
  return false;
}

function decodeFloat(dir: string, name: string, tensor: RawTensor): Float32Array {
  if (!FLOAT_DTYPES.includes(tensor.dtype)) {
    throw new LayersError(`${dir}: tensor '${name}' has dtype ${tensor.dtype}; expected F32, F16 or BF16`, {
      code: 'WEIGHT_DTYPE',
      context: { file: dir, tensor: name },
    });
  }
  return toFloat32(tensor);
}

/**
 * Writes `config.json` and the tensors (HF names) as safetensors. MTP modules also get the
 * copies of embedding and head the released checkpoints carry.
 */
export async function writeModelDir(
  dir: string,
  config: DeepseekConfig,
  tensors: Map<string, HostTensor>,
  options: SaveModelOptions = {},
): Promise<string[]> {
  const dtype = options.dtype ?? 'F32';
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of tensors) {
    // The gate bias stays fp32 as in DeepSeek's checkpoints.
    const storeAs = name.endsWith('e_score_correction_bias') ? 'F32' : dtype;
    out[name] = { dtype: storeAs, shape: t.shape, data: t.data };
  }
  for (let k = 0; k < config.nMtpModules; k++) {
    const p = mtpPrefix(config, k);
    const embed = tensors.get('model.embed_tokens.weight');
    const head = tensors.get('lm_head.weight');
    if (embed) out[`${p}.embed_tokens.weight`] = { dtype, shape: embed.shape, data: embed.data };
    if (head) out[`${p}.shared_head.head.weight`] = { dtype, shape: head.shape, data: head.data };
  }
  await mkdir(dir, { recursive: true });
  const files = await writeSafetensorsDir(dir, out, { maxShardBytes: options.maxShardBytes, metadata: { format: 'pt' } });
  const configPath = join(dir, 'config.json');
  await writeFile(`${configPath}.tmp`, `${JSON.stringify(toHfConfig(config), null, 2)}\n`);
  await rename(`${configPath}.tmp`, configPath);
  return ['config.json', ...files];
}
