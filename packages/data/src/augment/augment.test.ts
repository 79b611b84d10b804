import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { augmentDocuments, backTranslate } from './augmentDocuments.js';
import { randomDeletion, randomSwap, synonymReplacement } from './eda.js';
import { IGNORE_INDEX, maskTokens } from './maskTokens.js';
import { WordNet } from './wordNet.js';

describe('augmentation', () => {
  it('masks 15 % of tokens, BERT-style 80/10/10, never special tokens', () => {
    const rng = new SeededRandom(1);
    const ids = Array.from({ length: 100_000 }, (_, i) => (i % 50 === 0 ? 1 : 10 + (i % 900)));
    const { inputIds, labels } = maskTokens({
      ids,
      vocabSize: 1000,
      maskTokenId: 3,
      rng,
      specialTokenIds: [0, 1, 2],
    });
    let selected = 0;
    let masked = 0;
    let random = 0;
    let same = 0;
    let violations = 0;
    for (let i = 0; i < ids.length; i++) {
      if (labels[i] === IGNORE_INDEX) {
        if (inputIds[i] !== ids[i]) violations++;
        continue;
      }
      if (ids[i] === 1 || labels[i] !== ids[i]) violations++;
      selected++;
      if (inputIds[i] === 3) masked++;
      else if (inputIds[i] === ids[i]) same++;
      else {
        random++;
        if (inputIds[i]! <= 3) violations++;
      }
    }
    expect(violations).toBe(0);
    const eligible = ids.filter((t) => t !== 1).length;
    expect(selected / eligible).toBeCloseTo(0.15, 2);
    expect(masked / selected).toBeCloseTo(0.8, 1);
    expect(random / selected).toBeCloseTo(0.1, 1);
    expect(same / selected).toBeGreaterThan(0.08);
  });

  it('finds WordNet synonyms (car → automobile) and replaces words with them', () => {
    const wn = WordNet.open();
    try {
      expect(wn.synonyms('car')).toContain('automobile');
      expect(wn.synonyms('happy', 'adj')).toContain('glad');
      expect(wn.synonyms('qwzxv')).toEqual([]);
      const out = synonymReplacement({
        words: ['The', 'car', 'is', 'here.'],
        n: 1,
        rng: new SeededRandom(2),
        wordnet: wn,
      });
      expect(out[0]).toBe('The');
      expect(wn.synonyms('car')).toContain(out[1]);
    } finally {
      wn.close();
    }
  });

  it('EDA swap keeps the multiset of words; deletion removes about p of them', () => {
    const words = Array.from({ length: 1000 }, (_, i) => `w${i}`);
    const swapped = randomSwap({ words, n: 100, rng: new SeededRandom(3) });
    expect(swapped).not.toEqual(words);
    expect([...swapped].sort()).toEqual([...words].sort());
    const kept = randomDeletion({ words, p: 0.2, rng: new SeededRandom(4) });
    expect(kept.length / words.length).toBeGreaterThan(0.75);
    expect(kept.length / words.length).toBeLessThan(0.85);
    expect(randomDeletion({ words: ['only'], p: 1, rng: new SeededRandom(5) })).toEqual(['only']);
  });

  it('back-translation calls the user hook there and back; augmentDocuments is seeded', async () => {
    const calls: string[] = [];
    const translate = async (text: string, o: { from: string; to: string }) => {
      calls.push(`${o.from}>${o.to}`);
      return o.to === 'fr' ? text.replace('cat', 'chat') : text.replace('chat', 'feline');
    };
    expect(await backTranslate({ text: 'the cat', translate })).toBe('the feline');
    expect(calls).toEqual(['en>fr', 'fr>en']);
    const run = async () => {
      const out = [];
      for await (const d of augmentDocuments({
        documents: [{ id: 'a', text: 'one two three four five six seven eight nine ten' }],
        seed: 9,
        copies: 2,
      }))
        out.push(d);
      return out;
    };
    const a = await run();
    expect(a.map((d) => d.id)).toEqual(['a', 'a#aug0', 'a#aug1']);
    expect(await run()).toEqual(a);
  });
});
