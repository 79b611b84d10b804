import { AddedTokenMatcher, type AddedTokenSpec } from './addedTokens.js';
import { BpeModel, latin1 } from './bpeModel.js';
import { byteLevelToBytes, bytesToByteLevel } from './byteLevel.js';
import {
  type ChatMessage,
  DEEPSEEK_CHAT_TEMPLATE,
  type RenderChatOptions,
  renderChatTemplate,
} from './chatTemplate.js';
import { TokenizerError } from './errors.js';
import { compileNormalizer, type NormalizeFn } from './normalizer.js';
import { appendPieceOffsets } from './offsets.js';
import type { PairTable } from './pairTable.js';
import { escapeRegExp } from './pattern.js';
import {
  compilePostProcessor,
  readTrimOffsets,
  type SingleTemplate,
  trimOffsets,
} from './postProcessor.js';
import { type FastSplit, PreTokenizer } from './preTokenizer.js';
import { forEachChainPiece } from './splitChain.js';
import { StreamDecoder } from './streamDecoder.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

/** Which special tokens count as tokens; the rest are plain text (or errors, see disallowedSpecial). */
export type SpecialSelection = 'all' | 'none' | Iterable<string>;

export interface EncodeOptions {
  /** Special tokens recognised as single tokens. Default: 'all' for tokenizer.json / trained, 'none' for tiktoken. */
  allowedSpecial?: SpecialSelection;
  /** Special tokens whose presence makes encode throw ('all' = every special not allowed). Default: 'none' for tokenizer.json / trained, 'all' for tiktoken. */
  disallowedSpecial?: SpecialSelection;
  /** Add the post-processor's tokens (e.g. BOS). Default true; no effect without a template. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens. Default false. */
  skipSpecialTokens?: boolean;
}

export interface Encoding {
  ids: number[];
  /** [start, end) of each token in UTF-16 code units of the input (a token inside one character spans it). */
  offsets: [number, number][];
}

/** Metadata carried beside the model (tokenizer_config.json, or known defaults). */
export interface TokenizerMeta {
  name?: string;
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  /** Jinja chat template (tokenizer_config.json `chat_template`). */
  chatTemplate?: string;
}

/** Everything a Tokenizer is built from; produced by the tokenizer.json, tiktoken and trainer front ends. */
export interface TokenizerParts {
  /** Bytes of each model token by id (undefined for ids that exist only as added tokens). */
  tokenBytes: (Uint8Array | undefined)[];
  /** Latin-1 spelling of each token's bytes → id, when the loader already built it (reused for ignoreMerges lookups). */
  byteIndex?: Map<string, number>;
  /** Vocab entries that are not byte-level strings (e.g. specials listed in model.vocab), kept for tokenToId and save. */
  otherVocab: Map<number, string>;
  pairs: PairTable;
  /** Merges as (left, right) id pairs in rank order, or undefined when derived from tiktoken ranks. */
  merges?: Int32Array;
  /** tiktoken semantics: a piece that is itself a token maps to it without merging. */
  ignoreMerges: boolean;
  addedTokens: AddedTokenSpec[];
  normalizer: unknown;
  preTokenizer: unknown;
  postProcessor: unknown;
  decoder: unknown;
  defaults: { allowedSpecial: 'all' | 'none'; disallowedSpecial: 'all' | 'none' };
  meta: TokenizerMeta;
  /** Origin, for messages. */
  source: string;
}

/**
 * A byte-level BPE tokenizer compatible with tiktoken and HF tokenizer.json. Create one with
 * `Tokenizer.fromFile`, `Tokenizer.fromTiktoken` or `trainBpe`.
 */
export class Tokenizer {
  /** Number of ids (largest id + 1), added tokens included. */
  readonly vocabSize: number;
  readonly meta: TokenizerMeta;
  readonly parts: TokenizerParts;
  private readonly model: BpeModel;
  private readonly pre: PreTokenizer;
  private readonly normalize?: NormalizeFn;
  private readonly template?: SingleTemplate;
  private readonly trim?: { addPrefixSpace: boolean };
  private readonly added: AddedTokenMatcher;
  private readonly idBytes: (Uint8Array | undefined)[];
  private readonly specialIds: Set<number>;
  private readonly specialContents: string[];
  private tokenIndex?: Map<string, number>;
  private allSpecialsRegex?: RegExp;
  private addedById?: Map<number, string>;
  /** Whether some added token is not special (those always match, whatever the policy). */
  private readonly hasPlainAdded: boolean;

  constructor(parts: TokenizerParts) {
    this.parts = parts;
    this.meta = parts.meta;
    const byteIds = new Int32Array(256).fill(-1);
    const direct = parts.ignoreMerges ? (parts.byteIndex ?? new Map<string, number>()) : undefined;
    const fillDirect = direct !== undefined && parts.byteIndex === undefined;
    parts.tokenBytes.forEach((bytes, id) => {
      if (!bytes) return;
      if (bytes.length === 1 && byteIds[bytes[0]!] === -1) byteIds[bytes[0]!] = id;
      if (fillDirect && bytes.length > 1) {
        const key = latin1(bytes);
        if (!direct.has(key)) direct.set(key, id);
      }
    });
    this.model = new BpeModel({ byteIds, pairs: parts.pairs, direct });
    this.pre = PreTokenizer.fromJSON(parts.preTokenizer);
    this.normalize = compileNormalizer(parts.normalizer);
    this.template = compilePostProcessor(parts.postProcessor);
    this.trim = readTrimOffsets(parts.postProcessor);
    this.added = new AddedTokenMatcher(parts.addedTokens);
    this.idBytes = [...parts.tokenBytes];
    for (const [id, token] of parts.otherVocab) this.idBytes[id] = addedTokenBytes(token);
    for (const t of parts.addedTokens) this.idBytes[t.id] = addedTokenBytes(t.content);
    this.vocabSize = this.idBytes.length;
    this.specialIds = new Set(parts.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.specialContents = parts.addedTokens.filter((t) => t.special).map((t) => t.content);
    this.hasPlainAdded = parts.addedTokens.some((t) => !t.special);
  }

  /** Loads a tokenizer.json file, or a directory holding tokenizer.json (+ tokenizer_config.json). */
  static async fromFile(path: string): Promise<Tokenizer> {
    const { loadTokenizerFile } = await import('./hfJson.js');
    return loadTokenizerFile(path);
  }

  /** Loads a tiktoken encoding by name (cl100k_base, o200k_base, gpt2, r50k_base, p50k_base, p50k_edit) or rank file path. */
  static async fromTiktoken(
    nameOrFile: string,
    options: { pattern?: string; specialTokens?: Record<string, number> } = {},
  ): Promise<Tokenizer> {
    const { loadTiktoken } = await import('./tiktoken.js');
    return loadTiktoken(nameOrFile, options);
  }

  /** Encodes text (a string, or raw bytes: invalid UTF-8 is kept byte for byte) to token ids. */
  encode(text: string | Uint8Array, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    this.encodeInto(text, options, ids, undefined);
    return ids;
  }

  /** Encodes and reports each token's [start, end) in UTF-16 code units of the input string. */
  encodeWithOffsets(text: string, options: EncodeOptions = {}): Encoding {
    const ids: number[] = [];
    const flat: number[] = [];
    this.encodeInto(text, options, ids, flat);
    const offsets: [number, number][] = [];
    for (let i = 0; i < flat.length; i += 2) offsets.push([flat[i]!, flat[i + 1]!]);
    return { ids, offsets };
  }

  /** Encodes many texts (same options); single-threaded, sharing the piece cache. */
  encodeBatch(texts: Iterable<string | Uint8Array>, options: EncodeOptions = {}): number[][] {
    const out: number[][] = [];
    for (const text of texts) out.push(this.encode(text, options));
    return out;
  }

  /** Decodes ids to text. Invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return decodeUtf8(this.decodeBytes(ids, options));
  }

  /** Exact bytes of ids: the lossless inverse of encode for any input. */
  decodeBytes(ids: ArrayLike<number>, options: DecodeOptions = {}): Uint8Array {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new TokenizerError('decode expects an array of token ids', {
        code: 'TOKENIZER_BAD_INPUT',
        context: { field: 'ids' },
      });
    }
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.bytesOf(ids[i]!, options).length;
    const out = new Uint8Array(total);
    let p = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytesOf(ids[i]!, options);
      out.set(b, p);
      p += b.length;
    }
    return out;
  }

  /** Bytes of one id (empty for skipped specials); throws for ids outside the vocab. */
  bytesOf(id: number, options: DecodeOptions = {}): Uint8Array {
    const bytes = this.idBytes[id];
    if (bytes === undefined) {
      throw new TokenizerError(`token id ${id} is not in the vocabulary (size ${this.vocabSize})`, {
        code: 'TOKENIZER_UNKNOWN_ID',
        context: { field: 'ids', id },
      });
    }
    return options.skipSpecialTokens && this.specialIds.has(id) ? EMPTY : bytes;
  }

  /** Id of a token written as in tokenizer.json (byte-level, e.g. 'Ġthe') or an added token's content. */
  tokenToId(token: string): number | undefined {
    return this.index().get(token);
  }

  /** tokenizer.json spelling of an id (byte-level string, or the added token's content). */
  idToToken(id: number): string | undefined {
    this.addedById ??= new Map(this.parts.addedTokens.map((t) => [t.id, t.content]));
    const added = this.addedById.get(id);
    if (added !== undefined) return added;
    const bytes = this.parts.tokenBytes[id];
    return bytes ? bytesToByteLevel(bytes) : this.parts.otherVocab.get(id);
  }

  /** Whether id is a special token. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Special tokens, content → id. */
  get specialTokens(): Record<string, number> {
    return Object.fromEntries(
      this.parts.addedTokens.filter((t) => t.special).map((t) => [t.content, t.id]),
    );
  }

  get bosTokenId(): number | undefined {
    return this.meta.bosToken === undefined ? undefined : this.tokenToId(this.meta.bosToken);
  }

  get eosTokenId(): number | undefined {
    return this.meta.eosToken === undefined ? undefined : this.tokenToId(this.meta.eosToken);
  }

  get padTokenId(): number | undefined {
    return this.meta.padToken === undefined ? undefined : this.tokenToId(this.meta.padToken);
  }

  private index(): Map<string, number> {
    if (!this.tokenIndex) {
      const map = new Map<string, number>();
      this.parts.tokenBytes.forEach((b, id) => {
        if (b) map.set(bytesToByteLevel(b), id);
      });
      for (const [id, token] of this.parts.otherVocab) map.set(token, id);
      for (const t of this.parts.addedTokens) map.set(t.content, t.id);
      this.tokenIndex = map;
    }
    return this.tokenIndex;
  }

  private encodeInto(
    input: string | Uint8Array,
    options: EncodeOptions,
    ids: number[],
    offsets: number[] | undefined,
  ): void {
    if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
      throw new TokenizerError(`encode expects a string or Uint8Array, got ${typeof input}`, {
        code: 'TOKENIZER_BAD_INPUT',
        context: { field: 'text' },
      });
    }
    const escaped = typeof input !== 'string';
    const text = typeof input === 'string' ? input : decodeUtf8(input, true);
    const allow = this.resolveAllowed(options);
    this.checkDisallowed(text, options, allow);
    const useTemplate = this.template !== undefined && options.addSpecialTokens !== false;
    if (useTemplate) this.pushSpecials(this.template!.prefix, ids, offsets, 0);
    const allowed = options.allowedSpecial ?? this.parts.defaults.allowedSpecial;
    if (allowed === 'none' && !this.hasPlainAdded) {
      // Nothing can match as an added token: skip the scan for them.
      if (text.length > 0) this.encodeSegment(text, 0, text.length, escaped, ids, offsets);
    } else
      this.added.split(
        text,
        allow,
        (start, end) => this.encodeSegment(text, start, end, escaped, ids, offsets),
        (token, start, end) => {
          ids.push(token.id);
          offsets?.push(start, end);
        },
      );
    if (offsets && this.trim) {
      const from = useTemplate ? this.template!.prefix.length : 0;
      trimOffsets(ids, offsets, from, (id) => this.idBytes[id]!, this.trim.addPrefixSpace);
    }
    if (useTemplate) this.pushSpecials(this.template!.suffix, ids, offsets, text.length);
  }

  private pushSpecials(
    list: number[],
    ids: number[],
    offsets: number[] | undefined,
    at: number,
  ): void {
    for (const id of list) {
      ids.push(id);
      offsets?.push(at, at);
    }
  }

  private resolveAllowed(options: EncodeOptions): (content: string) => boolean {
    const allowed = options.allowedSpecial ?? this.parts.defaults.allowedSpecial;
    if (allowed === 'all') return () => true;
    if (allowed === 'none') return () => false;
    const set = new Set(allowed);
    return (content) => set.has(content);
  }

  private checkDisallowed(
    text: string,
    options: EncodeOptions,
    allow: (content: string) => boolean,
  ): void {
    const disallowed = options.disallowedSpecial ?? this.parts.defaults.disallowedSpecial;
    if (disallowed === 'none' || this.specialContents.length === 0) return;
    let found: { content: string; index: number } | undefined;
    const allowed = options.allowedSpecial ?? this.parts.defaults.allowedSpecial;
    if (disallowed === 'all' && allowed === 'none') {
      // The default for tiktoken encodings: every special is disallowed; reuse one regex.
      this.allSpecialsRegex ??= new RegExp(
        [...this.specialContents]
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join('|'),
        'u',
      );
      const m = this.allSpecialsRegex.exec(text);
      if (m) found = { content: m[0], index: m.index };
    } else {
      const list =
        disallowed === 'all' ? this.specialContents.filter((c) => !allow(c)) : [...disallowed];
      found = AddedTokenMatcher.findAny(text, list);
    }
    if (found) {
      throw new TokenizerError(
        `text contains the disallowed special token ${JSON.stringify(found.content)} at ${found.index}; pass allowedSpecial to encode it as a token, or disallowedSpecial: 'none' to encode it as text`,
        {
          code: 'TOKENIZER_DISALLOWED_SPECIAL',
          context: { field: 'text', token: found.content, index: found.index },
        },
      );
    }
  }

  private encodeSegment(
    text: string,
    start: number,
    end: number,
    escaped: boolean,
    ids: number[],
    offsets: number[] | undefined,
  ): void {
    if (this.normalize) {
      const raw = text.slice(start, end);
      const norm = this.normalize(raw);
      if (norm !== raw) {
        // Normalization moved characters: report the whole segment as each token's span.
        const first = ids.length;
        this.encodeNormalized(norm, 0, norm.length, escaped, ids, undefined);
        if (offsets) for (let i = first; i < ids.length; i++) offsets.push(start, end);
        return;
      }
    }
    this.encodeNormalized(text, start, end, escaped, ids, offsets);
  }

  private encodeNormalized(
    text: string,
    start: number,
    end: number,
    escaped: boolean,
    ids: number[],
    offsets: number[] | undefined,
  ): void {
    const model = this.model;
    const fast = this.pre.fast;
    const chain = this.pre.chain;
    if (chain && !fast && !escaped && !offsets) {
      forEachChainPiece(chain, (t, a, b) => model.encodeRange(t, a, b, ids), text, start, end);
      return;
    }
    if (!fast) {
      this.pre.run(text, start, end, (a, b, prefix) => {
        const first = ids.length;
        if (!prefix && !escaped) model.encodeRange(text, a, b, ids);
        else model.encodePiece(text, a, b, prefix, escaped, ids);
        if (offsets) this.offsetsOf(text, a, b, prefix, escaped, ids, first, offsets);
      });
      return;
    }
    const sub = start === 0 && end === text.length ? text : text.slice(start, end);
    if (!escaped && !offsets) {
      this.encodeFast(sub, fast, ids);
      return;
    }
    const regex = fast.regex;
    const keepGaps = fast.keepGaps;
    regex.lastIndex = 0;
    let prev = 0;
    for (let m = regex.exec(sub); m !== null; m = regex.exec(sub)) {
      const piece = m[0];
      const a = m.index;
      if (piece.length === 0) {
        if (a >= sub.length) break;
        regex.lastIndex = a + (sub.codePointAt(a)! > 0xffff ? 2 : 1);
        continue;
      }
      if (keepGaps && a > prev) this.encodeGap(sub, prev, a, start, escaped, ids, offsets);
      const first = ids.length;
      model.encodeKey(piece, false, escaped, ids);
      if (offsets)
        this.offsetsOf(sub, a, a + piece.length, false, escaped, ids, first, offsets, start);
      prev = a + piece.length;
    }
    if (keepGaps && prev < sub.length)
      this.encodeGap(sub, prev, sub.length, start, escaped, ids, offsets);
  }

  /**
   * The hot loop: a sticky regex tests for a piece at the current position (no match
   * object), the piece cache hashes it in place; the global regex is only used to skip gaps.
   */
  private encodeFast(text: string, fast: FastSplit, ids: number[]): void {
    const sticky = fast.sticky;
    const model = this.model;
    const length = text.length;
    let pos = 0;
    while (pos < length) {
      sticky.lastIndex = pos;
      if (sticky.test(text) && sticky.lastIndex > pos) {
        const end = sticky.lastIndex;
        model.encodeRange(text, pos, end, ids);
        pos = end;
        continue;
      }
      // No non-empty piece starts here: find the next one; what lies between is a gap.
      const regex = fast.regex;
      let next = length;
      let nextEnd = length;
      regex.lastIndex = pos;
      for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
        if (m[0].length > 0) {
          next = m.index;
          nextEnd = next + m[0].length;
          break;
        }
        if (m.index >= length) break;
        regex.lastIndex = m.index + 1;
      }
      if (fast.keepGaps && next > pos) model.encodeRange(text, pos, next, ids);
      if (next < length) model.encodeRange(text, next, nextEnd, ids);
      pos = nextEnd;
    }
  }

  private encodeGap(
    sub: string,
    a: number,
    b: number,
    base: number,
    escaped: boolean,
    ids: number[],
    offsets: number[] | undefined,
  ): void {
    const first = ids.length;
    this.model.encodePiece(sub, a, b, false, escaped, ids);
    if (offsets) this.offsetsOf(sub, a, b, false, escaped, ids, first, offsets, base);
  }

  /**
   * Renders a conversation with `options.template`, else the tokenizer's own chat_template,
   * else the built-in DeepSeek template when the vocab has DeepSeek's chat tokens.
   */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: RenderChatOptions & { template?: string } = {},
  ): string {
    let template = options.template ?? this.meta.chatTemplate;
    if (
      template === undefined &&
      this.tokenToId('<｜User｜>') !== undefined &&
      this.tokenToId('<｜Assistant｜>') !== undefined
    )
      template = DEEPSEEK_CHAT_TEMPLATE;
    if (template === undefined) {
      throw new TokenizerError(
        'this tokenizer has no chat_template; pass options.template (e.g. DEEPSEEK_CHAT_TEMPLATE)',
        {
          code: 'TOKENIZER_CHAT_TEMPLATE',
          context: { field: 'chat_template' },
        },
      );
    }
    return renderChatTemplate(template, messages, {
      bosToken: this.meta.bosToken,
      eosToken: this.meta.eosToken,
      ...options,
    });
  }

  /** Offsets of the tokens ids[first…] that encode text[a, b) (see appendPieceOffsets). */
  private offsetsOf(
    text: string,
    a: number,
    b: number,
    prefix: boolean,
    escaped: boolean,
    ids: number[],
    first: number,
    offsets: number[],
    base = 0,
  ): void {
    appendPieceOffsets({
      text,
      start: a,
      end: b,
      prefix,
      escaped,
      ids,
      first,
      offsets,
      base,
      tokenLength: (id) => this.idBytes[id]!.length,
    });
  }

  /** Writes tokenizer.json (and tokenizer_config.json beside it when there is metadata to keep). */
  async save(path: string, options: { withConfig?: boolean } = {}): Promise<void> {
    const { saveTokenizerFile } = await import('./hfJson.js');
    await saveTokenizerFile(this, path, options);
  }

  /** The tokenizer.json object that `save` writes. */
  async toJSON(): Promise<Record<string, unknown>> {
    const { tokenizerToJson } = await import('./hfJson.js');
    return tokenizerToJson(this);
  }

  /** A decoder that turns ids into text as they arrive, never splitting a UTF-8 character. */
  createStreamDecoder(options: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder(this, options);
  }

  /** Model-only view used by the saver and trainer: bytes → ids with merges below `maxRank`. */
  mergeWithRankLimit(bytes: Uint8Array, maxRank: number): number[] {
    const out: number[] = [];
    this.model.mergeBytes(bytes, bytes.length, out, maxRank);
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** HF ByteLevel decoding of an added token: all byte-level chars map to bytes, otherwise UTF-8 text. */
function addedTokenBytes(content: string): Uint8Array {
  return byteLevelToBytes(content) ?? encodeUtf8(content);
}
