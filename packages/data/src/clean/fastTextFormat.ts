// Reader for fastText's binary model format (.bin / .ftz, versions 11 and 12). Kept free of
// @deepline/core so worker threads can load a model without paying for tfjs; errors are a plain
// FastTextFormatError that the public loader turns into a DataError.

const FASTTEXT_MAGIC = 793712314;
const KSUB = 256;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The training arguments stored in a model file (only those inference needs are used). */
export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  /** 1 = hs, 2 = ns, 3 = softmax, 4 = ova. */
  loss: number;
  /** 1 = cbow, 2 = skipgram, 3 = supervised. */
  model: number;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
}

/** Product quantizer: `nsubq` sub-vectors, each one of 256 centroids. */
export interface ProductQuantizer {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  centroids: Float32Array;
}

/** A dense row-major matrix or a product-quantized one. */
export type FastTextMatrix =
  | { kind: 'dense'; rows: number; cols: number; data: Float32Array }
  | {
      kind: 'quant';
      rows: number;
      cols: number;
      codes: Uint8Array;
      pq: ProductQuantizer;
      /** Per-row norm codes and their quantizer, when the rows were normalised before coding. */
      norm?: { codes: Uint8Array; pq: ProductQuantizer };
    };

/** Everything a fastText model file holds, decoded. */
export interface FastTextModelData {
  version: number;
  args: FastTextArgs;
  /** Dictionary entries (words first, then labels) as UTF-8 bytes: entry i is bytes[start[i]..start[i+1]). */
  entryBytes: Uint8Array;
  entryStart: Int32Array;
  counts: Float64Array;
  /** 0 = word, 1 = label. */
  types: Uint8Array;
  nwords: number;
  nlabels: number;
  /** The label strings (entries nwords..size-1). */
  labels: string[];
  /** Pruned n-gram buckets and the rows they map to (parallel arrays), or undefined when nothing was pruned. */
  pruneidx?: { keys: Int32Array; values: Int32Array };
  input: FastTextMatrix;
  output: FastTextMatrix;
}

/** A malformed model file: names the section and byte offset where reading failed. */
export class FastTextFormatError extends Error {
  constructor(
    message: string,
    readonly section: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'FastTextFormatError';
  }
}

class Cursor {
  offset = 0;
  section = 'header';
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length)
      throw this.fail(
        `truncated: ${what} needs ${n} bytes, ${this.bytes.length - this.offset} left`,
      );
  }

  fail(message: string): FastTextFormatError {
    return new FastTextFormatError(
      `${message} (section ${this.section}, byte ${this.offset})`,
      this.section,
      this.offset,
    );
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }

  i64(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.offset, true);
    const hi = this.view.getInt32(this.offset + 4, true);
    if (hi > 0x1fffff || hi < -0x200000) throw this.fail(`${what} out of range`);
    this.offset += 8;
    return hi * 2 ** 32 + lo;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }

  bytesOf(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  floats(n: number, what: string): Float32Array {
    this.need(n * 4, what);
    const out = new Float32Array(n);
    if (LITTLE_ENDIAN) {
      // Copy through bytes: the source offset need not be 4-aligned.
      new Uint8Array(out.buffer).set(this.bytes.subarray(this.offset, this.offset + n * 4));
    } else for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.offset + 4 * i, true);
    this.offset += n * 4;
    return out;
  }

  int32s(n: number): Int32Array {
    const out = new Int32Array(n);
    if (LITTLE_ENDIAN)
      new Uint8Array(out.buffer).set(this.bytes.subarray(this.offset, this.offset + n * 4));
    else for (let i = 0; i < n; i++) out[i] = this.view.getInt32(this.offset + 4 * i, true);
    this.offset += n * 4;
    return out;
  }
}

function readArgs(c: Cursor): FastTextArgs {
  c.section = 'args';
  const names = [
    'dim',
    'ws',
    'epoch',
    'minCount',
    'neg',
    'wordNgrams',
    'loss',
    'model',
    'bucket',
    'minn',
    'maxn',
    'lrUpdateRate',
  ] as const;
  const args = {} as FastTextArgs;
  for (const name of names) args[name] = c.i32(name);
  args.t = c.f64('t');
  return args;
}

function readDictionary(c: Cursor, data: Partial<FastTextModelData>): void {
  c.section = 'dictionary';
  const size = c.i32('size');
  const nwords = c.i32('nwords');
  const nlabels = c.i32('nlabels');
  if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size)
    throw c.fail(`inconsistent sizes: size ${size}, nwords ${nwords}, nlabels ${nlabels}`);
  c.i64('ntokens');
  const pruneSize = c.i64('pruneidx_size');
  const bytes = c.bytes;
  const entryStart = new Int32Array(size + 1);
  const entryBytes = new Uint8Array(bytes.length);
  const counts = new Float64Array(size);
  const types = new Uint8Array(size);
  let used = 0;
  for (let i = 0; i < size; i++) {
    const end = bytes.indexOf(0, c.offset);
    if (end < 0) throw c.fail(`truncated: entry ${i} has no terminating NUL`);
    entryBytes.set(bytes.subarray(c.offset, end), used);
    used += end - c.offset;
    entryStart[i + 1] = used;
    c.offset = end + 1;
    counts[i] = c.i64(`count of entry ${i}`);
    const type = c.u8(`type of entry ${i}`);
    if (type > 1) throw c.fail(`entry ${i} has unknown type ${type}`);
    if ((type === 1) !== i >= nwords)
      throw c.fail(`entry ${i} is a ${type ? 'label' : 'word'} out of order`);
    types[i] = type;
  }
  const decoder = new TextDecoder('utf-8');
  const labels: string[] = [];
  for (let i = nwords; i < size; i++)
    labels.push(decoder.decode(entryBytes.subarray(entryStart[i]!, entryStart[i + 1]!)));
  let pruneidx: FastTextModelData['pruneidx'];
  if (pruneSize >= 0) {
    c.section = 'pruneidx';
    c.need(pruneSize * 8, `${pruneSize} pruneidx pairs`);
    const pairs = c.int32s(pruneSize * 2);
    const keys = new Int32Array(pruneSize);
    const values = new Int32Array(pruneSize);
    for (let i = 0; i < pruneSize; i++) {
      keys[i] = pairs[2 * i]!;
      values[i] = pairs[2 * i + 1]!;
    }
    pruneidx = { keys, values };
  }
  Object.assign(data, {
    entryBytes: entryBytes.slice(0, used),
    entryStart,
    counts,
    types,
    nwords,
    nlabels,
    labels,
    pruneidx,
  });
}

function readQuantizer(c: Cursor): ProductQuantizer {
  const dim = c.i32('pq dim');
  const nsubq = c.i32('pq nsubq');
  const dsub = c.i32('pq dsub');
  const lastdsub = c.i32('pq lastdsub');
  if (dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 || (nsubq - 1) * dsub + lastdsub !== dim)
    throw c.fail(
      `inconsistent product quantizer: dim ${dim}, nsubq ${nsubq}, dsub ${dsub}, lastdsub ${lastdsub}`,
    );
  return { dim, nsubq, dsub, lastdsub, centroids: c.floats(dim * KSUB, 'pq centroids') };
}

function readMatrix(c: Cursor, quantized: boolean): FastTextMatrix {
  if (!quantized) {
    const rows = c.i64('rows');
    const cols = c.i64('cols');
    if (rows < 0 || cols < 0) throw c.fail(`negative shape ${rows}x${cols}`);
    return { kind: 'dense', rows, cols, data: c.floats(rows * cols, `${rows}x${cols} floats`) };
  }
  const qnorm = c.u8('qnorm') !== 0;
  const rows = c.i64('rows');
  const cols = c.i64('cols');
  const codesize = c.i32('codesize');
  if (rows < 0 || cols < 0 || codesize < 0)
    throw c.fail(`negative shape ${rows}x${cols}/${codesize}`);
  const codes = c.bytesOf(codesize, 'codes');
  const pq = readQuantizer(c);
  if (pq.dim !== cols || codesize !== rows * pq.nsubq)
    throw c.fail(
      `codes (${codesize}) do not fit ${rows} rows of ${pq.nsubq} sub-quantizers, dim ${cols}`,
    );
  if (!qnorm) return { kind: 'quant', rows, cols, codes, pq };
  const normCodes = c.bytesOf(rows, 'norm codes');
  const normPq = readQuantizer(c);
  return { kind: 'quant', rows, cols, codes, pq, norm: { codes: normCodes, pq: normPq } };
}

/** Decodes a fastText model file; throws {@link FastTextFormatError} when it is malformed. */
export function parseFastTextModel(bytes: Uint8Array): FastTextModelData {
  const c = new Cursor(bytes);
  const magic = c.i32('magic');
  if (magic !== FASTTEXT_MAGIC) throw c.fail(`not a fastText model (magic ${magic})`);
  const version = c.i32('version');
  if (version !== 11 && version !== 12) throw c.fail(`unsupported fastText version ${version}`);
  const args = readArgs(c);
  if (args.model !== 3)
    throw c.fail(`model type ${args.model} is not supervised; only classifiers predict`);
  if (args.loss < 1 || args.loss > 4) throw c.fail(`unknown loss ${args.loss}`);
  if (args.dim <= 0 || args.bucket < 0) throw c.fail(`bad dim ${args.dim} / bucket ${args.bucket}`);
  // Version 11 supervised models were trained without character n-grams.
  if (version === 11) args.maxn = 0;
  if (args.bucket === 0 && (args.maxn > 0 || args.wordNgrams > 1))
    throw c.fail('bucket is 0 but the model uses n-grams');
  const data: Partial<FastTextModelData> = { version, args };
  readDictionary(c, data);
  c.section = 'input matrix';
  const quantInput = c.u8('quant_input flag') !== 0;
  const input = readMatrix(c, quantInput);
  if (input.cols !== args.dim)
    throw c.fail(`input matrix has ${input.cols} columns, dim is ${args.dim}`);
  if (input.rows < data.nwords!)
    throw c.fail(`input matrix has ${input.rows} rows < ${data.nwords} words`);
  if (!quantInput && data.pruneidx !== undefined)
    throw c.fail('a pruned dictionary needs a quantized input matrix');
  c.section = 'output matrix';
  const quantOutput = c.u8('qout flag') !== 0;
  const output = readMatrix(c, quantInput && quantOutput);
  if (output.cols !== args.dim)
    throw c.fail(`output matrix has ${output.cols} columns, dim is ${args.dim}`);
  // Hierarchical softmax uses nlabels - 1 rows (one per inner tree node) of nlabels.
  const wantRows = args.loss === 1 ? data.nlabels! - 1 : data.nlabels!;
  if (output.rows < wantRows || output.rows > data.nlabels!)
    throw c.fail(`output matrix has ${output.rows} rows for ${data.nlabels} labels`);
  if (data.nlabels! < 1) throw c.fail('the model has no labels');
  return { ...(data as FastTextModelData), input, output };
}
