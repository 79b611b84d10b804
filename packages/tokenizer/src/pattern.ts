import { TokenizerError } from './errors.js';

/**
 * Pre-tokenizer regex patterns and their translation from the Rust/Oniguruma dialect used by
 * tiktoken and HF tokenizers into a JavaScript `u`-flag RegExp with the same matches.
 */

/** GPT-2 / r50k / p50k pattern (also what HF `ByteLevel{use_regex:true}` applies). */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** cl100k_base pattern, as OpenAI's tiktoken writes it. */
export const CL100K_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";

/** o200k_base pattern, as OpenAI's tiktoken writes it. */
export const O200K_PATTERN = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}',
  ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
  '\\s*[\\r\\n]+',
  '\\s+(?!\\S)',
  '\\s+',
].join('|');

/** The three Split regexes of DeepSeek-V3's tokenizer.json, applied in order (each Isolated). */
export const DEEPSEEK_PATTERNS: readonly string[] = [
  '\\p{N}{1,3}',
  '[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+',
  '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
];

/** Named patterns accepted wherever a pattern is asked for. */
export const NAMED_PATTERNS: Readonly<Record<string, string>> = {
  gpt2: GPT2_PATTERN,
  cl100k: CL100K_PATTERN,
  o200k: O200K_PATTERN,
};

// Unicode White_Space, which Rust regex and Oniguruma use for \s. JavaScript's \s differs:
// it adds U+FEFF and lacks U+0085.
const WS_RANGES = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WORD_RANGES = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const SYNTAX = new Set('^$\\.*+?()[]{}|/');

interface Group {
  start: number;
  caseInsensitive: boolean;
  atomic: boolean;
}

/**
 * Translates a tiktoken / HF (Rust regex, Oniguruma) pattern to JavaScript source for the
 * `u` flag: `(?i:...)` becomes explicit case classes, possessive quantifiers and atomic
 * groups become lookahead+backreference, `\s` `\d` `\w` get their Unicode meanings, and
 * identity escapes that `u` forbids are unescaped.
 */
export function translatePattern(source: string): string {
  const out: string[] = [];
  const groups: Group[] = [];
  let caseInsensitive = false;
  let lastAtom = -1;
  let captureCounter = 0;
  let i = 0;
  const fail = (why: string): never => {
    throw new TokenizerError(`pattern ${JSON.stringify(source)}: ${why} at offset ${i}`, {
      code: 'TOKENIZER_BAD_PATTERN',
      context: { field: 'pattern', pattern: source, offset: i },
    });
  };
  const length = () => out.reduce((n, s) => n + s.length, 0);
  const wrapAtomic = (from: number) => {
    const text = out.join('');
    const name = `dlp${captureCounter++}`;
    out.length = 0;
    out.push(`${text.slice(0, from)}(?=(?<${name}>${text.slice(from)}))\\k<${name}>`);
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      lastAtom = length();
      const [js, used] = translateEscape(source, i, false, caseInsensitive, fail);
      out.push(js);
      i += used;
    } else if (c === '[') {
      lastAtom = length();
      const [js, used] = translateClass(source, i, caseInsensitive, fail);
      out.push(js);
      i += used;
    } else if (c === '(') {
      const rest = source.slice(i);
      const flagGroup = /^\(\?([imsx]*)(?:-([imsx]*))?([:)])/.exec(rest);
      if (flagGroup && (flagGroup[1] || flagGroup[2])) {
        const on = flagGroup[1]!.includes('i');
        const off = (flagGroup[2] ?? '').includes('i');
        const next: boolean = on ? true : off ? false : caseInsensitive;
        if (flagGroup[3] === ')') {
          caseInsensitive = next; // (?i) applies to the rest of the enclosing group
          i += flagGroup[0].length;
          continue;
        }
        groups.push({ start: length(), caseInsensitive, atomic: false });
        caseInsensitive = next;
        out.push('(?:');
        i += flagGroup[0].length;
        continue;
      }
      const atomic = rest.startsWith('(?>');
      groups.push({ start: length(), caseInsensitive, atomic });
      if (atomic) {
        out.push('(?:');
        i += 3;
      } else if (rest.startsWith('(?P<')) {
        out.push('(?<');
        i += 4;
      } else if (/^\(\?(?:[:=!]|<[=!]|<[A-Za-z_])/.test(rest)) {
        const prefix =
          /^\(\?(?:[:=!]|<[=!]|<[A-Za-z_]\w*>)/.exec(rest)?.[0] ?? fail('bad group syntax');
        out.push(prefix);
        i += prefix.length;
      } else {
        out.push('(');
        i += 1;
      }
    } else if (c === ')') {
      const group = groups.pop() ?? fail('unbalanced )');
      out.push(')');
      i++;
      caseInsensitive = group.caseInsensitive;
      if (group.atomic) wrapAtomic(group.start);
      lastAtom = group.start;
    } else if (
      c === '*' ||
      c === '+' ||
      c === '?' ||
      (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(i)))
    ) {
      const quantifier = c === '{' ? /^\{\d+(,\d*)?\}/.exec(source.slice(i))![0] : c;
      if (lastAtom < 0) fail(`quantifier ${quantifier} with nothing to repeat`);
      out.push(quantifier);
      i += quantifier.length;
      if (source[i] === '+') {
        wrapAtomic(lastAtom);
        i++;
      } else if (source[i] === '?') {
        out.push('?');
        i++;
      }
      lastAtom = -1;
    } else {
      lastAtom = length();
      if (c === '{' || c === '}' || c === ']') out.push(`\\${c}`);
      else if (c === '.') out.push('[^\\n]');
      else if (c === '|' || c === '^' || c === '$') {
        out.push(c);
        lastAtom = -1;
      } else out.push(caseInsensitive ? caseClass(source, i) : literalAt(source, i));
      i += literalAt(source, i).length;
    }
  }
  if (groups.length > 0) fail('unbalanced (');
  return out.join('');
}

/** The literal at i (a whole surrogate pair when there is one). */
function literalAt(source: string, i: number): string {
  const cp = source.codePointAt(i)!;
  return String.fromCodePoint(cp);
}

function caseClass(source: string, i: number): string {
  const ch = literalAt(source, i);
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower === upper || [...lower].length !== 1 || [...upper].length !== 1) return ch;
  return `[${lower}${upper}]`;
}

function translateEscape(
  source: string,
  i: number,
  inClass: boolean,
  caseInsensitive: boolean,
  fail: (why: string) => never,
): [string, number] {
  const e = source[i + 1];
  if (e === undefined) return fail('pattern ends with \\');
  switch (e) {
    case 's':
      return [inClass ? WS_RANGES : `[${WS_RANGES}]`, 2];
    case 'S':
      return [inClass ? '\\S' : `[^${WS_RANGES}]`, 2];
    case 'd':
      return ['\\p{Nd}', 2];
    case 'D':
      return ['\\P{Nd}', 2];
    case 'w':
      return [inClass ? WORD_RANGES : `[${WORD_RANGES}]`, 2];
    case 'W':
      return [inClass ? '\\W' : `[^${WORD_RANGES}]`, 2];
    case 'A':
      return ['^', 2];
    case 'z':
      return ['$', 2];
    case 'Z':
      return ['(?=\\n?$)', 2];
    case 'h':
      return [inClass ? '0-9a-fA-F' : '[0-9a-fA-F]', 2];
    case 'p':
    case 'P': {
      if (source[i + 2] === '{') {
        const close = source.indexOf('}', i + 2);
        if (close < 0) return fail('unterminated \\p{');
        return [source.slice(i, close + 1), close + 1 - i];
      }
      if (!/[A-Z]/.test(source[i + 2] ?? '')) return fail('bad \\p class');
      return [`\\${e}{${source[i + 2]}}`, 3];
    }
    case 'x': {
      if (source[i + 2] === '{') {
        const close = source.indexOf('}', i + 2);
        if (close < 0) return fail('unterminated \\x{');
        return [`\\u{${source.slice(i + 3, close)}}`, close + 1 - i];
      }
      return [source.slice(i, i + 4), 4];
    }
    case 'u':
      return [source.slice(i, i + 6), 6];
    case 'n':
    case 'r':
    case 't':
    case 'f':
    case 'v':
    case '0':
      return [`\\${e}`, 2];
    case 'b':
    case 'B':
      return [inClass ? '\\x08' : `\\${e}`, 2];
    case 'k':
      return [source.slice(i, source.indexOf('>', i) + 1), source.indexOf('>', i) + 1 - i];
    default:
      break;
  }
  if (/[1-9]/.test(e)) return [`\\${e}`, 2];
  if (/[A-Za-z]/.test(e)) return fail(`unsupported escape \\${e}`);
  const ch = literalAt(source, i + 1);
  if (SYNTAX.has(ch) || (inClass && ch === '-')) return [`\\${ch}`, 1 + ch.length];
  if (caseInsensitive && !inClass) return [caseClass(source, i + 1), 1 + ch.length];
  return [ch, 1 + ch.length];
}

function translateClass(
  source: string,
  start: number,
  caseInsensitive: boolean,
  fail: (why: string) => never,
): [string, number] {
  let i = start + 1;
  let out = '[';
  if (source[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  const extra: string[] = [];
  while (i < source.length) {
    const c = source[i]!;
    if (c === ']' && !first) {
      return [`${out}${extra.join('')}]`, i + 1 - start];
    }
    first = false;
    if (c === '\\') {
      const [js, used] = translateEscape(source, i, true, false, fail);
      out += js;
      i += used;
    } else if (c === '[') {
      if (source[i + 1] === ':') fail('POSIX classes like [:alpha:] are not supported');
      out += '\\[';
      i++;
    } else if (c === ']') {
      out += '\\]';
      i++;
    } else {
      const ch = literalAt(source, i);
      out += ch;
      if (caseInsensitive) {
        const isRange =
          source[i + ch.length] === '-' &&
          source[i + ch.length + 1] !== ']' &&
          source[i + ch.length + 1] !== undefined;
        if (isRange) {
          const hi = literalAt(source, i + ch.length + 1);
          out += `-${hi}`;
          if (/^[a-z]$/.test(ch) && /^[a-z]$/.test(hi))
            extra.push(`${ch.toUpperCase()}-${hi.toUpperCase()}`);
          if (/^[A-Z]$/.test(ch) && /^[A-Z]$/.test(hi))
            extra.push(`${ch.toLowerCase()}-${hi.toLowerCase()}`);
          i += ch.length + 1 + hi.length;
          continue;
        }
        if (ch.toLowerCase() !== ch) extra.push(ch.toLowerCase());
        if (ch.toUpperCase() !== ch && [...ch.toUpperCase()].length === 1)
          extra.push(ch.toUpperCase());
      }
      i += ch.length;
    }
  }
  return fail('unterminated character class');
}

/** Compiles a tiktoken/HF pattern (or a name from NAMED_PATTERNS) to a global unicode RegExp. */
export function compilePattern(pattern: string): RegExp {
  const source = NAMED_PATTERNS[pattern] ?? pattern;
  const js = translatePattern(source);
  try {
    return new RegExp(js, 'gu');
  } catch (error) {
    throw new TokenizerError(
      `pattern ${JSON.stringify(source)} cannot be compiled: ${(error as Error).message}`,
      {
        code: 'TOKENIZER_BAD_PATTERN',
        context: { field: 'pattern', pattern: source },
        cause: error,
      },
    );
  }
}

/** Escapes a literal string for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
