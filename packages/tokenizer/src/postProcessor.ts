import { fieldError } from './errors.js';

/** Ids to put around an encoded single sequence when special tokens are added. */
export interface SingleTemplate {
  prefix: number[];
  suffix: number[];
}

/**
 * Reads a tokenizer.json `post_processor` (TemplateProcessing, BertProcessing,
 * RobertaProcessing, ByteLevel, or a Sequence of them) into the ids added around a single
 * sequence. ByteLevel only trims offsets, so it adds nothing.
 */
export function compilePostProcessor(
  json: unknown,
  field = 'post_processor',
  file?: string,
): SingleTemplate | undefined {
  if (json === null || json === undefined) return undefined;
  if (typeof json !== 'object') throw fieldError(field, 'expected an object or null', { file });
  const o = json as Record<string, unknown>;
  switch (o.type) {
    case 'ByteLevel':
      return undefined;
    case 'Sequence': {
      if (!Array.isArray(o.processors))
        throw fieldError(`${field}.processors`, 'expected an array', { file });
      const parts = o.processors
        .map((p, i) => compilePostProcessor(p, `${field}.processors[${i}]`, file))
        .filter((t): t is SingleTemplate => !!t);
      return parts.length === 0
        ? undefined
        : { prefix: parts.flatMap((p) => p.prefix), suffix: parts.flatMap((p) => p.suffix) };
    }
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const cls = pairId(o.cls, `${field}.cls`, file);
      const sep = pairId(o.sep, `${field}.sep`, file);
      return { prefix: [cls], suffix: [sep] };
    }
    case 'TemplateProcessing':
      return compileTemplate(o, field, file);
    default:
      throw fieldError(`${field}.type`, `unsupported post-processor ${JSON.stringify(o.type)}`, {
        file,
      });
  }
}

function pairId(value: unknown, field: string, file?: string): number {
  if (!Array.isArray(value) || typeof value[1] !== 'number')
    throw fieldError(field, 'expected [token, id]', { file });
  return value[1];
}

function compileTemplate(o: Record<string, unknown>, field: string, file?: string): SingleTemplate {
  if (!Array.isArray(o.single))
    throw fieldError(`${field}.single`, 'expected an array of template pieces', { file });
  const specials = (o.special_tokens ?? {}) as Record<string, { ids?: unknown }>;
  const prefix: number[] = [];
  const suffix: number[] = [];
  let seenSequence = false;
  o.single.forEach((piece: any, i: number) => {
    if (piece?.Sequence) {
      seenSequence = true;
      return;
    }
    const name = piece?.SpecialToken?.id;
    if (typeof name !== 'string')
      throw fieldError(`${field}.single[${i}]`, 'expected {SpecialToken:{id}} or {Sequence:{id}}', {
        file,
      });
    const ids = specials[name]?.ids;
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x))) {
      throw fieldError(`${field}.special_tokens.${name}.ids`, 'expected an array of integer ids', {
        file,
      });
    }
    (seenSequence ? suffix : prefix).push(...(ids as number[]));
  });
  return { prefix, suffix };
}

/**
 * The ByteLevel post-processor's offset trimming, when on: tokens' leading and trailing
 * spaces are left out of their offsets (`addPrefixSpace` keeps the first token's single
 * added space), as tokenizers' `process_offsets` does.
 */
export function readTrimOffsets(json: unknown): { addPrefixSpace: boolean } | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  if (o.type === 'ByteLevel')
    return o.trim_offsets === false ? undefined : { addPrefixSpace: o.add_prefix_space !== false };
  if (o.type === 'Sequence' && Array.isArray(o.processors)) {
    for (const p of o.processors) {
      const trim = readTrimOffsets(p);
      if (trim) return trim;
    }
  }
  return undefined;
}

/** Applies ByteLevel offset trimming to offsets[from…] of tokens ids[from…] (byte lengths of leading/trailing spaces). */
export function trimOffsets(
  ids: number[],
  offsets: number[],
  from: number,
  tokenBytes: (id: number) => Uint8Array,
  addPrefixSpace: boolean,
): void {
  for (let t = from; t < ids.length; t++) {
    const bytes = tokenBytes(ids[t]!);
    let leading = 0;
    while (leading < bytes.length && bytes[leading] === 0x20) leading++;
    let trailing = 0;
    while (trailing < bytes.length - leading && bytes[bytes.length - 1 - trailing] === 0x20)
      trailing++;
    if (leading === bytes.length) trailing = leading;
    const s = offsets[2 * t]!;
    const e = offsets[2 * t + 1]!;
    let start = s;
    let end = e;
    if (leading > 0) {
      const isFirst = t === 0 || s === 0;
      if (!(isFirst && addPrefixSpace && leading === 1)) start = Math.min(s + leading, e);
    }
    if (trailing > 0 && end >= trailing) end = Math.max(end - trailing, start);
    offsets[2 * t] = start;
    offsets[2 * t + 1] = end;
  }
}
