import { open } from 'node:fs/promises';
import { fail } from '../errors.js';
import { type GgmlType, ggmlTensorBytes } from './ggmlBlocks.js';

/** GGUF metadata value types (gguf.md). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

export type GgufScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';

/** One typed metadata value: a scalar, or an array of one scalar type. */
export type GgufValue =
  | { type: Exclude<GgufScalarType, 'bool' | 'string'>; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: Exclude<GgufScalarType, 'bool' | 'string'>; values: ArrayLike<number> }
  | { type: 'array'; itemType: 'string'; values: readonly string[] }
  | { type: 'array'; itemType: 'bool'; values: readonly boolean[] };

/** One tensor to write: name, shape in row-major (outermost first) order, ggml type and encoded bytes. */
export interface GgufTensorInput {
  name: string;
  /** Row-major shape (numpy order); GGUF stores it reversed (ne0 = innermost). */
  shape: number[];
  type: GgmlType;
  /** Encoded data (see encodeGgmlTensor); its length must match shape and type. */
  data: Uint8Array;
}

/** Options of {@link encodeGgufHeader} / {@link writeGgufFile}. */
export interface GgufWriteOptions {
  /** Metadata in write order. `general.alignment` is added when alignment ≠ 32 is requested. */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensorInput[];
  /** Data alignment in bytes (default 32, GGUF's default). */
  alignment?: number;
}

const TYPE_ID: Record<GgufScalarType, number> = {
  u8: GgufValueType.UINT8,
  i8: GgufValueType.INT8,
  u16: GgufValueType.UINT16,
  i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32,
  i32: GgufValueType.INT32,
  f32: GgufValueType.FLOAT32,
  bool: GgufValueType.BOOL,
  string: GgufValueType.STRING,
  u64: GgufValueType.UINT64,
  i64: GgufValueType.INT64,
  f64: GgufValueType.FLOAT64,
};

const WIDTH: Record<GgufScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 0, u64: 8, i64: 8, f64: 8 };

/** Growable little-endian byte sink. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  scalar(type: GgufScalarType, v: number | boolean): void {
    const w = WIDTH[type];
    this.reserve(w);
    const o = this.length;
    const n = Number(v);
    const dv = this.view;
    if (type === 'u8' || type === 'bool') dv.setUint8(o, n);
    else if (type === 'i8') dv.setInt8(o, n);
    else if (type === 'u16') dv.setUint16(o, n, true);
    else if (type === 'i16') dv.setInt16(o, n, true);
    else if (type === 'u32') dv.setUint32(o, n, true);
    else if (type === 'i32') dv.setInt32(o, n, true);
    else if (type === 'f32') dv.setFloat32(o, n, true);
    else if (type === 'u64') dv.setBigUint64(o, BigInt(n), true);
    else if (type === 'i64') dv.setBigInt64(o, BigInt(n), true);
    else dv.setFloat64(o, n, true);
    this.length += w;
  }

  string(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.scalar('u64', bytes.length);
    this.bytes(bytes);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeValue(sink: ByteSink, key: string, value: GgufValue): void {
  if (value.type === 'array') {
    sink.scalar('u32', GgufValueType.ARRAY);
    sink.scalar('u32', TYPE_ID[value.itemType]);
    sink.scalar('u64', value.values.length);
    for (let i = 0; i < value.values.length; i++) {
      const v = value.values[i]!;
      if (value.itemType === 'string') sink.string(v as string);
      else sink.scalar(value.itemType, v as number | boolean);
    }
    return;
  }
  if (!(value.type in TYPE_ID)) fail('GGUF_METADATA', `metadata '${key}' has unknown type ${JSON.stringify(value.type)}`, { field: key });
  sink.scalar('u32', TYPE_ID[value.type]);
  if (value.type === 'string') sink.string(value.value);
  else sink.scalar(value.type, value.value);
}

function checkTensor(t: GgufTensorInput): number {
  if (new TextEncoder().encode(t.name).length > 64) fail('GGUF_TENSOR', `tensor name '${t.name}' is longer than 64 bytes`, { tensor: t.name });
  if (t.shape.length < 1 || t.shape.length > 4 || t.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    fail('GGUF_TENSOR', `tensor '${t.name}' has shape [${t.shape.join(', ')}]; GGUF needs 1-4 positive dims`, { tensor: t.name, shape: t.shape });
  }
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape[t.shape.length - 1]! % (t.type === 0 || t.type === 1 ? 1 : 32) !== 0) {
    fail('GGUF_TENSOR', `tensor '${t.name}': innermost dim ${t.shape.at(-1)} is not a multiple of the 32-element block`, { tensor: t.name, shape: t.shape });
  }
  const expected = ggmlTensorBytes(t.type, count);
  if (t.data.length !== expected) {
    fail('GGUF_TENSOR', `tensor '${t.name}' has ${t.data.length} bytes, its shape and type need ${expected}`, { tensor: t.name, shape: t.shape });
  }
  return expected;
}

function alignmentOf(options: GgufWriteOptions): number {
  const alignment = options.alignment ?? 32;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    fail('GGUF_ALIGNMENT', `alignment must be a positive multiple of 8, got ${alignment}`, { field: 'alignment' });
  }
  return alignment;
}

/**
 * Encodes everything before the tensor data: header (magic, version 3, counts), metadata
 * KVs, tensor infos (dims reversed to ne0-first, offsets aligned) and the padding up to the
 * data section. Returns the bytes and each tensor's offset within the data section.
 */
export function encodeGgufHeader(options: GgufWriteOptions): { header: Uint8Array; offsets: number[]; alignment: number } {
  const alignment = alignmentOf(options);
  const metadata = [...options.metadata];
  const seen = new Set<string>();
  for (const [key] of metadata) {
    if (seen.has(key)) fail('GGUF_METADATA', `metadata key '${key}' appears twice`, { field: key });
    seen.add(key);
  }
  if (alignment !== 32 && !seen.has('general.alignment')) metadata.push(['general.alignment', { type: 'u32', value: alignment }]);
  const names = new Set<string>();
  const sink = new ByteSink();
  sink.bytes(new Uint8Array([0x47, 0x47, 0x55, 0x46]));
  sink.scalar('u32', 3);
  sink.scalar('u64', options.tensors.length);
  sink.scalar('u64', metadata.length);
  for (const [key, value] of metadata) {
    sink.string(key);
    writeValue(sink, key, value);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of options.tensors) {
    if (names.has(t.name)) fail('GGUF_TENSOR', `tensor '${t.name}' appears twice`, { tensor: t.name });
    names.add(t.name);
    const bytes = checkTensor(t);
    sink.string(t.name);
    sink.scalar('u32', t.shape.length);
    for (let i = t.shape.length - 1; i >= 0; i--) sink.scalar('u64', t.shape[i]!);
    sink.scalar('u32', t.type);
    sink.scalar('u64', offset);
    offsets.push(offset);
    offset += Math.ceil(bytes / alignment) * alignment;
  }
  sink.padTo(alignment);
  return { header: sink.result(), offsets, alignment };
}

/** Encodes a whole GGUF file in memory. */
export function encodeGguf(options: GgufWriteOptions): Uint8Array {
  const { header, offsets, alignment } = encodeGgufHeader(options);
  const last = options.tensors.length - 1;
  const dataBytes = last < 0 ? 0 : offsets[last]! + Math.ceil(options.tensors[last]!.data.length / alignment) * alignment;
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  for (const [i, t] of options.tensors.entries()) out.set(t.data, header.length + offsets[i]!);
  return out;
}

/** Streams a GGUF file to `path` (tensor data is written one tensor at a time). Returns its size. */
export async function writeGgufFile(path: string, options: GgufWriteOptions): Promise<number> {
  const { header, offsets, alignment } = encodeGgufHeader(options);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'w');
  } catch (cause) {
    return fail('GGUF_WRITE', `cannot write ${path}: ${(cause as Error).message}`, { file: path });
  }
  try {
    await handle.write(header, 0, header.length, 0);
    let end = header.length;
    for (let i = 0; i < options.tensors.length; i++) {
      const t = options.tensors[i]!;
      const at = header.length + offsets[i]!;
      await handle.write(t.data, 0, t.data.length, at);
      const padded = Math.ceil(t.data.length / alignment) * alignment;
      if (padded > t.data.length) await handle.write(new Uint8Array(padded - t.data.length), 0, padded - t.data.length, at + t.data.length);
      end = at + padded;
    }
    return end;
  } finally {
    await handle.close();
  }
}
