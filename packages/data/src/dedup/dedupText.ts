const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The text normalisation used before hashing (as datatrove's simplify_text): lowercase,
 * diacritics removed, digit runs folded to `0`, punctuation dropped, whitespace squeezed.
 * Returns the words.
 */
export function dedupWords(text: string): string[] {
  let t = text.toLowerCase();
  if (NON_ASCII.test(t)) t = t.normalize('NFD').replace(/\p{M}+/gu, '');
  return t
    .replace(/\d+/g, '0')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** Two 32-bit hashes of a string packed into one exactly-representable 52-bit number. */
export function hash52(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}

/** Key for exact dedup: the normalised word sequence, hashed. */
export function exactKey(text: string): number {
  return hash52(dedupWords(text).join(' '));
}
