import { fieldError } from './errors.js';
import { compilePattern, escapeRegExp, GPT2_PATTERN } from './pattern.js';
import type { SplitChain } from './splitChain.js';

export type SplitBehavior =
  | 'Removed'
  | 'Isolated'
  | 'MergedWithPrevious'
  | 'MergedWithNext'
  | 'Contiguous';
const BEHAVIORS = new Set<string>([
  'Removed',
  'Isolated',
  'MergedWithPrevious',
  'MergedWithNext',
  'Contiguous',
]);

type Step =
  | { kind: 'split'; regex: RegExp; behavior: SplitBehavior; invert: boolean }
  | { kind: 'byteLevel'; addPrefixSpace: boolean; regex?: RegExp };

/** Callback receiving each pre-token: text[start, end), with a virtual leading space when `prefixSpace`. */
export type PieceSink = (start: number, end: number, prefixSpace: boolean) => void;

/** The single-regex shape most real tokenizers reduce to, run without intermediate arrays. */
export interface FastSplit {
  regex: RegExp;
  /** The same pattern with the sticky flag, to test for a match exactly at lastIndex without allocating. */
  sticky: RegExp;
  /** Whether text between matches is also a piece (Isolated) or dropped (Removed + invert). */
  keepGaps: boolean;
}

/**
 * HF pre-tokenizer pipeline (Split / ByteLevel / Digits / Sequence) compiled to JS regexes.
 * Splitting follows tokenizers' `NormalizedString::split` rules, including the five
 * delimiter behaviours, `invert`, and ByteLevel's per-split `add_prefix_space`.
 */
export class PreTokenizer {
  readonly fast?: FastSplit;
  /** Set when every step isolates (no prefix space, no removal): see SplitChain. */
  readonly chain?: SplitChain;
  private readonly steps: Step[];

  private constructor(steps: Step[]) {
    this.steps = steps;
    this.fast = fastShape(steps);
    this.chain = chainShape(steps);
  }

  /** Compiles a tokenizer.json `pre_tokenizer` object; errors name the offending field. */
  static fromJSON(json: unknown, field = 'pre_tokenizer', file?: string): PreTokenizer {
    const steps: Step[] = [];
    collectSteps(json, field, steps, file);
    if (!steps.some((s) => s.kind === 'byteLevel')) {
      throw fieldError(field, 'a byte-level BPE needs a ByteLevel pre-tokenizer (none found)', {
        file,
      });
    }
    return new PreTokenizer(steps);
  }

  /** Emits the pieces of text[start, end). */
  run(text: string, start: number, end: number, sink: PieceSink): void {
    this.runFrom(0, text, start, end, false, sink);
  }

  /** Applies steps[k…] to one segment, streaming pieces to the sink (no intermediate arrays). */
  private runFrom(
    k: number,
    text: string,
    s: number,
    e: number,
    prefix: boolean,
    sink: PieceSink,
  ): void {
    const step = this.steps[k];
    if (step === undefined) {
      sink(s, e, prefix);
      return;
    }
    if (step.kind === 'byteLevel') {
      byteLevelSegment(text, s, e, prefix, step, (a, b, p) =>
        this.runFrom(k + 1, text, a, b, p, sink),
      );
    } else if (step.behavior === 'Isolated' && !step.invert) {
      findMatches(text, s, e, step.regex, (a, b) =>
        this.runFrom(k + 1, text, a, b, prefix && a === s, sink),
      );
    } else {
      splitSegment(text, s, e, step.regex, step.behavior, step.invert, (a, b) =>
        this.runFrom(k + 1, text, a, b, prefix && a === s, sink),
      );
    }
  }
}

function chainShape(steps: Step[]): SplitChain | undefined {
  const last = steps[steps.length - 1];
  if (last?.kind !== 'byteLevel' || last.addPrefixSpace) return undefined;
  const regexes: RegExp[] = [];
  for (const step of steps) {
    if (step.kind === 'split') {
      if (step.behavior !== 'Isolated' || step.invert) return undefined;
      regexes.push(step.regex);
    } else if (step.addPrefixSpace) return undefined;
    else if (step.regex) regexes.push(step.regex);
  }
  return {
    sticky: regexes.map((r) => new RegExp(r.source, 'uy')),
    global: regexes.map((r) => new RegExp(r.source, 'gu')),
  };
}

function fastShape(steps: Step[]): FastSplit | undefined {
  const [a, b] = steps;
  const fast = (regex: RegExp, keepGaps: boolean): FastSplit => ({
    regex,
    sticky: new RegExp(regex.source, 'uy'),
    keepGaps,
  });
  if (steps.length === 1 && a?.kind === 'byteLevel' && !a.addPrefixSpace && a.regex)
    return fast(a.regex, true);
  if (
    steps.length === 2 &&
    a?.kind === 'split' &&
    b?.kind === 'byteLevel' &&
    !b.addPrefixSpace &&
    !b.regex
  ) {
    if (a.behavior === 'Removed' && a.invert) return fast(a.regex, false);
    if (a.behavior === 'Isolated' && !a.invert) return fast(a.regex, true);
  }
  return undefined;
}

function collectSteps(json: unknown, field: string, steps: Step[], file?: string): void {
  if (json === null || typeof json !== 'object')
    throw fieldError(field, 'expected an object', { file });
  const o = json as Record<string, unknown>;
  switch (o.type) {
    case 'Sequence': {
      if (!Array.isArray(o.pretokenizers))
        throw fieldError(`${field}.pretokenizers`, 'expected an array', { file });
      o.pretokenizers.forEach((p, i) => {
        collectSteps(p, `${field}.pretokenizers[${i}]`, steps, file);
      });
      return;
    }
    case 'ByteLevel': {
      const useRegex = o.use_regex === undefined ? true : Boolean(o.use_regex);
      steps.push({
        kind: 'byteLevel',
        addPrefixSpace: o.add_prefix_space === undefined ? true : Boolean(o.add_prefix_space),
        regex: useRegex ? compilePattern(GPT2_PATTERN) : undefined,
      });
      return;
    }
    case 'Split': {
      const pattern = o.pattern as Record<string, unknown> | undefined;
      let regex: RegExp;
      if (pattern && typeof pattern.Regex === 'string')
        regex = withField(
          () => compilePattern(pattern.Regex as string),
          `${field}.pattern.Regex`,
          file,
        );
      else if (pattern && typeof pattern.String === 'string')
        regex = new RegExp(escapeRegExp(pattern.String), 'gu');
      else
        throw fieldError(`${field}.pattern`, 'expected {"Regex": string} or {"String": string}', {
          file,
        });
      if (typeof o.behavior !== 'string' || !BEHAVIORS.has(o.behavior)) {
        throw fieldError(
          `${field}.behavior`,
          `expected one of ${[...BEHAVIORS].join(', ')}, got ${JSON.stringify(o.behavior)}`,
          { file },
        );
      }
      steps.push({
        kind: 'split',
        regex,
        behavior: o.behavior as SplitBehavior,
        invert: Boolean(o.invert),
      });
      return;
    }
    case 'Digits': {
      const regex = new RegExp(o.individual_digits ? '\\p{N}' : '\\p{N}+', 'gu');
      steps.push({ kind: 'split', regex, behavior: 'Isolated', invert: false });
      return;
    }
    default:
      throw fieldError(
        `${field}.type`,
        `unsupported pre-tokenizer ${JSON.stringify(o.type)} (supported: Sequence, Split, ByteLevel, Digits)`,
        { file },
      );
  }
}

function withField<T>(fn: () => T, field: string, file?: string): T {
  try {
    return fn();
  } catch (error) {
    throw fieldError(field, (error as Error).message, { file });
  }
}

/** Regex matches of text[s, e) as (start, end, isMatch) runs covering the segment. */
function findMatches(
  text: string,
  s: number,
  e: number,
  regex: RegExp,
  emit: (a: number, b: number, isMatch: boolean) => void,
): void {
  const sub = s === 0 && e === text.length ? text : text.slice(s, e);
  regex.lastIndex = 0;
  let prev = 0;
  for (let m = regex.exec(sub); m !== null; m = regex.exec(sub)) {
    const a = m.index;
    const b = a + m[0].length;
    if (b === a) {
      regex.lastIndex = a + (sub.codePointAt(a)! > 0xffff ? 2 : 1);
      if (a >= sub.length) break;
      continue; // empty matches produce empty pieces, which tokenizers filters out
    }
    if (a > prev) emit(s + prev, s + a, false);
    emit(s + a, s + b, true);
    prev = b;
  }
  if (prev < sub.length) emit(s + prev, e, false);
}

function splitSegment(
  text: string,
  s: number,
  e: number,
  regex: RegExp,
  behavior: SplitBehavior,
  invert: boolean,
  emit: (a: number, b: number) => void,
): void {
  const runs: [number, number, boolean][] = [];
  findMatches(text, s, e, regex, (a, b, isMatch) => runs.push([a, b, isMatch !== invert]));
  let out: [number, number, boolean][] = [];
  let previousMatch = false;
  switch (behavior) {
    case 'Removed':
      out = runs.filter((r) => !r[2]);
      break;
    case 'Isolated':
      out = runs;
      break;
    case 'MergedWithPrevious':
      for (const r of runs) {
        const last = out[out.length - 1];
        if (r[2] && !previousMatch && last) last[1] = r[1];
        else out.push([r[0], r[1], false]);
        previousMatch = r[2];
      }
      break;
    case 'MergedWithNext':
      for (let k = runs.length - 1; k >= 0; k--) {
        const r = runs[k]!;
        const last = out[out.length - 1];
        if (r[2] && !previousMatch && last) last[0] = r[0];
        else out.push([r[0], r[1], false]);
        previousMatch = r[2];
      }
      out.reverse();
      break;
    case 'Contiguous':
      for (const r of runs) {
        const last = out[out.length - 1];
        if (r[2] === previousMatch && last) last[1] = r[1];
        else out.push([r[0], r[1], false]);
        previousMatch = r[2];
      }
      break;
  }
  for (const r of out) if (r[1] > r[0]) emit(r[0], r[1]);
}

function byteLevelSegment(
  text: string,
  s: number,
  e: number,
  prefixed: boolean,
  step: { addPrefixSpace: boolean; regex?: RegExp },
  emit: (a: number, b: number, prefix: boolean) => void,
): void {
  const addSpace = step.addPrefixSpace && !prefixed && text.charCodeAt(s) !== 0x20;
  if (!step.regex) {
    emit(s, e, prefixed || addSpace);
    return;
  }
  if (!addSpace) {
    findMatches(text, s, e, step.regex, (a, b) => emit(a, b, prefixed && a === s));
    return;
  }
  const spaced = ` ${text.slice(s, e)}`;
  findMatches(spaced, 0, spaced.length, step.regex, (a, b) =>
    emit(s + Math.max(0, a - 1), s + b - 1, a === 0),
  );
}
