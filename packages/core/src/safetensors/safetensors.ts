import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { CoreError } from '../errors.js';
import {
  DTYPE_BYTES,
  type SafetensorsDtype,
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  isSafetensorsDtype,
} from './dtypes.js';

/** One tensor as stored: dtype, shape and its little-endian bytes. */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsContents {
  tensors: Map<string, RawTensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** Data accepted by the writer; float32 data may be stored as F16/BF16 by naming that dtype. */
export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;
}

// The header is JSON, so a size beyond this means a corrupt or foreign file.
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Parses a safetensors buffer. `source` names the file in errors. */
export function parseSafetensors(buffer: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const fail = (message: string, tensor?: string): never => {
    throw new CoreError(`${source}: ${message}`, { code: 'SAFETENSORS_INVALID', context: { file: source, tensor } });
  };
  if (buffer.byteLength < 8) fail('file is shorter than the 8-byte header length');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buffer.byteLength) {
    fail(`header length ${headerLength} does not fit a file of ${buffer.byteLength} bytes`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLength)));
  } catch (cause) {
    return fail(`header is not valid JSON (${(cause as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = buffer.byteLength - dataStart;
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isSafetensorsDtype(e.dtype)) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`, name);
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`, name);
    }
    const offsets = e.data_offsets as [number, number];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !(offsets[0] <= offsets[1]) || offsets[1] > dataLength) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)} outside the ${dataLength}-byte data section`, name);
    }
    const shape = e.shape as number[];
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (offsets[1] - offsets[0] !== expected) {
      fail(`tensor '${name}' holds ${offsets[1] - offsets[0]} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`, name);
    }
    tensors.set(name, { dtype, shape, bytes: buffer.subarray(dataStart + offsets[0], dataStart + offsets[1]) });
  }
  return { tensors, metadata };
}

/** Reads a whole .safetensors file. */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (cause) {
    throw new CoreError(`cannot read ${path}: ${(cause as Error).message}`, {
      code: 'SAFETENSORS_READ',
      context: { file: path },
      cause,
    });
  }
  return parseSafetensors(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), path);
}

/** Reads only the header (names, dtypes, shapes) without loading tensor data. */
export async function readSafetensorsHeader(path: string): Promise<Map<string, { dtype: SafetensorsDtype; shape: number[] }>> {
  const handle = await open(path, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    const { size } = await handle.stat();
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      throw new CoreError(`${path}: header length ${headerLength} does not fit a file of ${size} bytes`, {
        code: 'SAFETENSORS_INVALID',
        context: { file: path },
      });
    }
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    const header = JSON.parse(headerBytes.toString('utf8')) as Record<string, { dtype: SafetensorsDtype; shape: number[] }>;
    const out = new Map<string, { dtype: SafetensorsDtype; shape: number[] }>();
    for (const [name, e] of Object.entries(header)) if (name !== '__metadata__') out.set(name, { dtype: e.dtype, shape: e.shape });
    return out;
  } finally {
    await handle.close();
  }
}

/** Decodes any floating or integer tensor to float32 (F16/BF16 exactly widened). */
export function toFloat32(tensor: RawTensor): Float32Array {
  const { dtype, bytes } = tensor;
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(view.getUint16(i * 2, true));
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bfloat16BitsToFloat32(view.getUint16(i * 2, true));
      break;
    default: {
      const ints = toInt32(tensor);
      for (let i = 0; i < n; i++) out[i] = ints[i]!;
    }
  }
  return out;
}

/** Decodes an integer/bool tensor to int32; I64/U32 values must fit (errors otherwise). */
export function toInt32(tensor: RawTensor, name = '<tensor>'): Int32Array {
  const { dtype, bytes } = tensor;
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(n);
  const read: Partial<Record<SafetensorsDtype, (i: number) => number>> = {
    I32: (i) => view.getInt32(i * 4, true),
    I16: (i) => view.getInt16(i * 2, true),
    I8: (i) => view.getInt8(i),
    U8: (i) => view.getUint8(i),
    BOOL: (i) => view.getUint8(i),
    U16: (i) => view.getUint16(i * 2, true),
    U32: (i) => view.getUint32(i * 4, true),
    I64: (i) => Number(view.getBigInt64(i * 8, true)),
  };
  const reader = read[dtype];
  if (!reader) {
    throw new CoreError(`tensor '${name}' has dtype ${dtype}, expected an integer dtype`, {
      code: 'SAFETENSORS_DTYPE',
      context: { tensor: name },
    });
  }
  for (let i = 0; i < n; i++) {
    const v = reader(i);
    if (v > 2147483647 || v < -2147483648) {
      throw new CoreError(`tensor '${name}' value ${v} at index ${i} does not fit int32`, {
        code: 'SAFETENSORS_RANGE',
        context: { tensor: name },
      });
    }
    out[i] = v;
  }
  return out;
}

/** Encodes tensors into safetensors bytes (header padded to 8 bytes, as HF's writer does). */
export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const encoded: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = encodeTensor(name, t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    encoded.push(bytes);
    offset += bytes.byteLength;
  }
  let headerText = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(headerText) % 8)) % 8;
  headerText += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const bytes of encoded) {
    out.set(bytes, position);
    position += bytes.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically (temp file then rename). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, serializeSafetensors(tensors, metadata));
  await rename(temp, path);
}

function encodeTensor(name: string, t: TensorToWrite): Uint8Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new CoreError(`tensor '${name}' has ${t.data.length} values but shape ${JSON.stringify(t.shape)} needs ${count}`, {
      code: 'SAFETENSORS_SHAPE',
      context: { tensor: name },
    });
  }
  const out = new Uint8Array(count * DTYPE_BYTES[t.dtype]);
  const view = new DataView(out.buffer);
  const src = t.data;
  const num = (i: number) => Number(src[i]);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) view.setFloat32(i * 4, num(i), true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) view.setFloat64(i * 8, num(i), true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) view.setUint16(i * 2, float32ToFloat16Bits(num(i)), true);
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) view.setUint16(i * 2, float32ToBfloat16Bits(num(i)), true);
      break;
    case 'I64':
      for (let i = 0; i < count; i++) view.setBigInt64(i * 8, BigInt(Math.trunc(num(i))), true);
      break;
    case 'I32':
      for (let i = 0; i < count; i++) view.setInt32(i * 4, num(i), true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) view.setUint32(i * 4, num(i), true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) view.setInt16(i * 2, num(i), true);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) view.setUint16(i * 2, num(i), true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) view.setInt8(i, num(i));
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) view.setUint8(i, num(i));
      break;
  }
  return out;
}
