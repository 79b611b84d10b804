// Characters the chain turns into spaces: [\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000].
// The Latin-1 ones are found with `includes` (a memchr); the others with one regex, which V8
// skips outright on one-byte strings and runs as a single scan on two-byte ones (searching
// them one by one with `includes` costs a slow scan each on two-byte text).
const LATIN1_SPACES = ['\t', '\v', '\f', '\u00a0'];
const WIDE_SPACE = /[\u1680\u2000-\u200a\u202f\u205f\u3000]/;
const WIDE_SPACES = /[\u1680\u2000-\u200a\u202f\u205f\u3000]/g;

/**
 * Whitespace tidying equal to this regex chain (kept as the test's reference):
 * `\r\n?` → `\n`; tabs and odd spaces → ` `; ` {2,}` → ` `; ` \n` → `\n`; `\n{3,}` → `\n\n`;
 * then `trim()`. Each step runs only when a cheap native search finds something for it to do
 * (single-character `includes` is a memchr; a character-class regex scan costs far more), so
 * clean text costs about one pass and comes back as the same string.
 */
export function tidyWhitespace(text: string): string {
  let t = text;
  if (t.includes('\r')) t = t.replace(/\r\n?/g, '\n');
  for (const space of LATIN1_SPACES) if (t.includes(space)) t = t.replaceAll(space, ' ');
  if (WIDE_SPACE.test(t)) t = t.replace(WIDE_SPACES, ' ');
  if (t.includes('  ')) t = t.replace(/ {2,}/g, ' ');
  if (hasSpaceBeforeNewline(t)) t = t.replaceAll(' \n', '\n');
  if (t.includes('\n\n\n')) t = t.replace(/\n{3,}/g, '\n\n');
  return t.trim();
}

/** `text.includes(' \n')`, searching for the (rarer) newlines. */
function hasSpaceBeforeNewline(text: string): boolean {
  for (let i = text.indexOf('\n', 1); i !== -1; i = text.indexOf('\n', i + 1))
    if (text.charCodeAt(i - 1) === 32) return true;
  return false;
}
