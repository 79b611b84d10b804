import type { SeededRandom } from '@deepline/core';
import type { WordNet } from './wordNet.js';

const STOP = new Set(
  'a an the and or but if of at by for with about against between into through during before after above below to from up down in out on off over under again further then once here there when where why how all any both each few more most other some such no nor not only own same so than too very s t can will just don should now i me my we our you your he him his she her it its they them their what which who whom this that these those am is are was were be been being have has had having do does did doing'.split(
    ' ',
  ),
);

/** Swaps two random words, `n` times (EDA random swap). */
export function randomSwap(options: { words: string[]; n: number; rng: SeededRandom }): string[] {
  const words = [...options.words];
  if (words.length < 2) return words;
  for (let k = 0; k < options.n; k++) {
    const i = options.rng.int(words.length);
    const j = options.rng.int(words.length);
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  return words;
}

/** Deletes each word with probability `p`, always keeping at least one (EDA random deletion). */
export function randomDeletion(options: {
  words: string[];
  p: number;
  rng: SeededRandom;
}): string[] {
  if (options.words.length <= 1) return [...options.words];
  const kept = options.words.filter(() => options.rng.next() >= options.p);
  return kept.length > 0 ? kept : [options.words[options.rng.int(options.words.length)]!];
}

/**
 * Replaces up to `n` distinct non-stop-words that have WordNet synonyms with a random synonym
 * (EDA synonym replacement). Capitalisation of the first letter and trailing punctuation are kept.
 */
export function synonymReplacement(options: {
  words: string[];
  n: number;
  rng: SeededRandom;
  wordnet: WordNet;
}): string[] {
  const words = [...options.words];
  const candidates = options.rng.shuffle(words.map((_, i) => i));
  let replaced = 0;
  for (const i of candidates) {
    if (replaced >= options.n) break;
    const match = /^(\W*)([\p{L}'-]+)(\W*)$/u.exec(words[i]!);
    if (!match) continue;
    const [, pre, core, post] = match;
    if (STOP.has(core!.toLowerCase())) continue;
    const synonyms = options.wordnet.synonyms(core!);
    if (synonyms.length === 0) continue;
    let pick = synonyms[options.rng.int(synonyms.length)]!;
    if (/^\p{Lu}/u.test(core!)) pick = pick[0]!.toUpperCase() + pick.slice(1);
    words[i] = `${pre}${pick}${post}`;
    replaced++;
  }
  return words;
}
