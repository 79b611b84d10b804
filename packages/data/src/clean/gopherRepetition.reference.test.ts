import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { gopherRepetitionStage } from './gopherRepetitionStage.js';
import { isRejection } from './stage.js';

// A literal, string-based port of the Gopher repetition rules (as in datatrove), used as the
// independent reference for the hashed implementation.
function findDuplicates(items: string[]): [number, number] {
  const seen = new Set<string>();
  let elements = 0;
  let chars = 0;
  for (const x of items) {
    if (seen.has(x)) {
      elements++;
      chars += x.length;
    } else seen.add(x);
  }
  return [elements, chars];
}
function ngrams(words: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(' '));
  return out;
}
function topDuplicate(grams: string[]): number {
  const counts = new Map<string, number>();
  let best = '';
  let bestCount = 0;
  for (const g of grams) {
    const c = (counts.get(g) ?? 0) + 1;
    counts.set(g, c);
    if (c > bestCount) {
      bestCount = c;
      best = g;
    }
  }
  return best.length * bestCount;
}
function allDuplicate(words: string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0;
  let i = 0;
  while (i < words.length - n + 1) {
    const g = words.slice(i, i + n).join('\u0000');
    if (seen.has(g)) {
      chars += words.slice(i, i + n).join('').length;
      i += n;
    } else {
      seen.add(g);
      i++;
    }
  }
  return chars;
}
function reference(text: string): string {
  const paragraphs = text.trim().split(/\n{2,}/);
  const [pe, pc] = findDuplicates(paragraphs);
  if (pe / paragraphs.length > 0.3) return 'dup_para_frac';
  if (pc / text.length > 0.2) return 'dup_para_char_frac';
  const lines = text.split(/\n+/);
  const [le, lc] = findDuplicates(lines);
  if (le / lines.length > 0.3) return 'dup_line_frac';
  if (lc / text.length > 0.2) return 'dup_line_char_frac';
  const words = text.split(/\s+/).filter(Boolean);
  for (const [n, f] of [
    [2, 0.2],
    [3, 0.18],
    [4, 0.16],
  ] as const)
    if (topDuplicate(ngrams(words, n)) / text.length > f) return `top_${n}_gram`;
  for (const [n, f] of [
    [5, 0.15],
    [6, 0.14],
    [7, 0.13],
    [8, 0.12],
    [9, 0.11],
    [10, 0.1],
  ] as const)
    if (allDuplicate(words, n) / text.length > f) return `duplicated_${n}_n_grams`;
  return 'kept';
}

describe('Gopher repetition vs a literal string port', () => {
  it('gives the same verdict on 300 random documents with planted repetition', () => {
    const rng = new SeededRandom(17);
    const vocab = Array.from({ length: 400 }, (_, i) => `word${i}${'x'.repeat(i % 5)}`);
    const stage = gopherRepetitionStage();
    const verdicts = new Map<string, number>();
    for (let d = 0; d < 300; d++) {
      const words = Array.from({ length: 150 + rng.int(300) }, () => vocab[rng.int(vocab.length)]!);
      // Plant a repeated span of random length a random number of times.
      const span = words.slice(0, 3 + rng.int(15));
      for (let k = rng.int(1 + (d % 12)); k > 0; k--)
        words.splice(rng.int(words.length), 0, ...span);
      const lines: string[] = [];
      for (let i = 0; i < words.length; i += 8 + rng.int(12))
        lines.push(words.slice(i, i + 12).join(' '));
      if (d % 7 === 0) lines.push(lines[0]!, lines[0]!);
      const text = lines.join(rng.next() < 0.3 ? '\n\n' : '\n');
      const result = stage.apply({ id: String(d), text });
      const ours = isRejection(result) ? result.reason : 'kept';
      expect(ours).toBe(reference(text));
      verdicts.set(ours, (verdicts.get(ours) ?? 0) + 1);
    }
    // The corpus exercises several rules, not just one.
    expect(verdicts.size).toBeGreaterThanOrEqual(4);
  });
});
