import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreError } from '../errors.js';
import { DTYPE_BYTES } from './dtypes.js';
import { type RawTensor, type TensorToWrite, readSafetensors, writeSafetensors } from './safetensors.js';

export const SAFETENSORS_SINGLE = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';

/**
 * Loads every tensor of a model directory: `model.safetensors`, or the shards listed
 * in `model.safetensors.index.json` (HF's `weight_map`).
 */
export async function readSafetensorsDir(dir: string): Promise<{ tensors: Map<string, RawTensor>; metadata: Record<string, string> }> {
  const indexPath = join(dir, SAFETENSORS_INDEX);
  if (existsSync(indexPath)) {
    let index: { weight_map?: Record<string, string>; metadata?: Record<string, unknown> };
    try {
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (cause) {
      throw new CoreError(`${indexPath}: not valid JSON (${(cause as Error).message})`, {
        code: 'SAFETENSORS_INDEX',
        context: { file: indexPath },
        cause,
      });
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new CoreError(`${indexPath}: missing field 'weight_map'`, {
        code: 'SAFETENSORS_INDEX',
        context: { file: indexPath, field: 'weight_map' },
      });
    }
    const tensors = new Map<string, RawTensor>();
    const shards = [...new Set(Object.values(index.weight_map))];
    let metadata: Record<string, string> = {};
    for (const shard of shards) {
      const contents = await readSafetensors(join(dir, shard));
      metadata = { ...metadata, ...contents.metadata };
      for (const [name, tensor] of contents.tensors) {
        if (index.weight_map[name] !== shard) {
          throw new CoreError(`${indexPath}: tensor '${name}' found in ${shard} but weight_map says ${index.weight_map[name] ?? 'nothing'}`, {
            code: 'SAFETENSORS_INDEX',
            context: { file: indexPath, tensor: name },
          });
        }
        tensors.set(name, tensor);
      }
    }
    for (const name of Object.keys(index.weight_map)) {
      if (!tensors.has(name)) {
        throw new CoreError(`${indexPath}: tensor '${name}' is listed but missing from ${index.weight_map[name]}`, {
          code: 'SAFETENSORS_INDEX',
          context: { file: indexPath, tensor: name },
        });
      }
    }
    return { tensors, metadata };
  }
  const single = join(dir, SAFETENSORS_SINGLE);
  if (!existsSync(single)) {
    throw new CoreError(`${dir}: neither ${SAFETENSORS_SINGLE} nor ${SAFETENSORS_INDEX} found`, {
      code: 'SAFETENSORS_MISSING',
      context: { file: dir },
    });
  }
  return readSafetensors(single);
}

export interface WriteSafetensorsDirOptions {
  /** Shard when the total exceeds this many bytes (HF names: model-00001-of-00002.safetensors). */
  maxShardBytes?: number;
  metadata?: Record<string, string>;
}

/** Writes tensors into a directory as one file or HF-style shards with an index. */
export async function writeSafetensorsDir(
  dir: string,
  tensors: Record<string, TensorToWrite>,
  options: WriteSafetensorsDirOptions = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const limit = options.maxShardBytes ?? Number.POSITIVE_INFINITY;
  const groups: Record<string, TensorToWrite>[] = [{}];
  let current = 0;
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (current > 0 && current + size > limit) {
      groups.push({});
      current = 0;
    }
    groups[groups.length - 1]![name] = t;
    current += size;
    total += size;
  }
  if (groups.length === 1) {
    await writeSafetensors(join(dir, SAFETENSORS_SINGLE), tensors, options.metadata);
    return [SAFETENSORS_SINGLE];
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < groups.length; i++) {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`;
    await writeSafetensors(join(dir, file), groups[i]!, options.metadata);
    for (const name of Object.keys(groups[i]!)) weightMap[name] = file;
    files.push(file);
  }
  const indexPath = join(dir, SAFETENSORS_INDEX);
  await writeFile(`${indexPath}.tmp`, `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`);
  await rename(`${indexPath}.tmp`, indexPath);
  return files;
}
