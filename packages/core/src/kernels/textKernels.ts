/**
 * The text kernels a kernel package may provide for @deepline/data's cleaning chain, by name,
 * with their contracts. Each must return exactly what @deepline/data's own JavaScript computes
 * (same hashes, counts and verdicts): a provider changes speed, never results. Output arrays
 * are caller-owned; every function returns how many entries it wrote (or a verdict).
 */
export interface TextKernelContracts {
  /**
   * Whitespace-separated words (JavaScript's `\s`) of `codes[0, length)`, Latin-1 bytes: start
   * offsets, lengths, 32-bit FNV-1a hashes of the bytes (murmur3-finalised) and kind bits
   * (1 ASCII letter or digit, 2 ASCII letter, 4 non-ASCII, 8 ASCII control). Outputs hold at
   * least `(length + 1) / 2` entries. Returns the word count.
   */
  scanWordsLatin1(
    codes: Uint8Array,
    length: number,
    starts: Uint32Array,
    lengths: Uint32Array,
    hashes: Uint32Array,
    kinds: Uint8Array,
  ): number;
  /**
   * Hashes of the dedup-normalised words of Latin-1 bytes: byte b is a separator, letter or
   * digit by `classes[b]` (0, 1, 2), letters hash as `folded[b]`, a run of digits as one "0";
   * FNV-1a per word, murmur3-finalised. Returns the word count.
   */
  dedupHashesLatin1(
    codes: Uint8Array,
    length: number,
    out: Uint32Array,
    folded: Uint16Array,
    classes: Uint8Array,
  ): number;
  /**
   * Gopher's top and duplicated n-gram rules over a word scan (hashes and lengths as
   * {@link scanWordsLatin1}). `params`: text length, the number of top rules, then n and the
   * fraction of each, the number of duplicate rules, then n and the fraction of each. Returns
   * −1 when the document passes, else the index of the first failing rule (top rules first),
   * with its measured fraction in `out[0]`.
   */
  gopherNgrams(
    hashes: Uint32Array,
    lengths: Uint32Array,
    params: Float64Array,
    out: Float64Array,
  ): number;
  /**
   * Gopher's duplicate lines / paragraphs of Latin-1 bytes: the text (JavaScript-trimmed first
   * when `trim`) split at runs of at least `minNewlines` (1 or 2) newlines, as
   * `split(/\n{k,}/)`; writes to `out` the number of pieces, of pieces equal to an earlier one,
   * and those pieces' total length.
   */
  duplicatePiecesLatin1(
    codes: Uint8Array,
    length: number,
    trim: boolean,
    minNewlines: 1 | 2,
    out: Float64Array,
  ): void;
  /**
   * fastText's input side, for language ID: builds a model from a parsed .bin/.ftz file's
   * tables (`params`: nwords, bucket, minn, maxn, wordNgrams, dim, input rows, quantized 0/1,
   * nsubq, dsub, lastdsub; empty arrays for parts the model lacks) and returns an opaque
   * handle for {@link fastTextHidden}, usable on the thread that created it.
   */
  fastTextCreate(
    params: Float64Array,
    entryBytes: Uint8Array,
    entryStart: Int32Array,
    types: Uint8Array,
    pruneKeys: Int32Array,
    pruneValues: Int32Array,
    dense: Float32Array,
    codes: Uint8Array,
    centroids: Float32Array,
    normCodes: Uint8Array,
    normCentroids: Float32Array,
  ): object;
  /**
   * The float32 mean of the input rows of one line of UTF-8 `bytes[0, length)` (fastText's
   * tokenisation, the line's final "</s>" included), bit for bit fastText's, written to
   * `hidden`; returns the number of rows (0: none, `hidden` untouched).
   */
  fastTextHidden(model: object, bytes: Uint8Array, length: number, hidden: Float32Array): number;
  /**
   * MinHash signature of the shingles of `ngram` consecutive word hashes (one shingle of all of
   * them when fewer): shingle hash FNV-style over the words then murmur3-finalised; function
   * f's value `y = (x ^ xorB[f]) · mulA[f]` (mod 2³²), `y ^= y >>> 16`, as int32; `signature[f]`
   * is the minimum. `wordHashes` is non-empty.
   */
  minhashSignature(
    wordHashes: Uint32Array,
    ngram: number,
    mulA: Int32Array,
    xorB: Int32Array,
    signature: Int32Array,
  ): void;
}

/** A registered set of text kernels. */
export interface TextKernelProvider {
  /** Who provides them (e.g. the package name). */
  name: string;
  /**
   * Absolute path of a module `require()` can load whose exports are these kernels (a native
   * addon, say), so worker threads load the same kernels without importing the provider.
   */
  module: string;
  kernels: Partial<TextKernelContracts>;
}

let provider: TextKernelProvider | undefined;

/**
 * Registers the text kernels (kernel packages do this; @deepline/data looks them up, so data
 * code never imports a kernel package). Replaces an earlier provider.
 */
export function registerTextKernels(textKernels: TextKernelProvider): void {
  provider = textKernels;
}

/** Removes the provider `name` (all when omitted); a no-op when another one is registered. */
export function unregisterTextKernels(name?: string): void {
  if (name === undefined || provider?.name === name) provider = undefined;
}

/** The registered text kernels, if any. */
export function textKernelProvider(): TextKernelProvider | undefined {
  return provider;
}
