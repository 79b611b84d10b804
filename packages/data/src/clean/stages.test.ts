import { describe, expect, it } from 'vitest';
import type { Document } from '../types.js';
import { c4Stage, countSentences } from './c4Stage.js';
import { Cleaner } from './cleaner.js';
import { finewebStage } from './finewebStage.js';
import { gopherQualityStage } from './gopherQualityStage.js';
import { gopherRepetitionStage } from './gopherRepetitionStage.js';
import { invalidCharsStage } from './invalidCharsStage.js';
import { languageStage } from './languageStage.js';
import { normalizeStage } from './normalizeStage.js';
import { piiStage } from './piiStage.js';
import { type StageResult, isRejection } from './stage.js';
import { tokenLengthStage } from './tokenLengthStage.js';

const doc = (text: string): Document => ({ id: 't', text });
const reason = (r: StageResult) =>
  Array.isArray(r) ? 'split' : isRejection(r) ? r.reason : 'kept';
const text = (r: StageResult) => (Array.isArray(r) || isRejection(r) ? '' : r.text);

// A plain, well-formed English paragraph: 8 sentences, ~110 words, many stop words.
const GOOD = [
  'The committee met on Tuesday to review the budget for the coming year.',
  'Members agreed that the library needs new shelves and a better heating system.',
  'They also discussed the plan to extend opening hours during the winter months.',
  'Several residents spoke in favour of the proposal and asked for more evening events.',
  'The treasurer explained that the costs would be covered by a small grant from the county.',
  'After a long debate, the members voted to approve the plan with two minor changes.',
  'The next meeting will take place in the town hall at the end of the month.',
  'Everyone is welcome to attend and to share ideas with the committee.',
].join('\n');

describe('cleaning stages on hand-made documents', () => {
  it('normalize composes NFC and tidies whitespace', () => {
    const r = normalizeStage().apply(doc('Cafe\u0301 \t menu\r\n\r\n\r\n\r\nopen  \n'));
    expect(text(r)).toBe('Café menu\n\nopen');
  });

  it('invalid chars: strips control/emoji/private-use, keeps CJK and punctuation, rejects garbage', () => {
    const s = invalidCharsStage();
    expect(
      text(s.apply(doc('Hello, 世界! こんにちは。 Good\u0007 day ok ok ok ok ok ok ok ok ok.'))),
    ).toBe('Hello, 世界! こんにちは。 Good day ok ok ok ok ok ok ok ok ok.');
    expect(reason(s.apply(doc('ok \u{1F600}\u{1F600}\u{1F600}\uE000\uE000\uFFFD\uFFFD')))).toBe(
      'too_many_invalid_chars',
    );
  });

  it('invalid chars: the plain-ASCII fast path only skips characters the full patterns keep', () => {
    // 'é' is valid but not plain, so these documents go through the full patterns.
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    const withPunct = `\t\n${printable}é`;
    expect(text(invalidCharsStage().apply(doc(withPunct)))).toBe(withPunct);
    const alnum = `\t\n ${printable.replace(/[^0-9A-Za-z_]/g, '')}é`;
    expect(text(invalidCharsStage({ keepPunctuation: false }).apply(doc(alnum)))).toBe(alnum);
    // Without punctuation kept, ASCII punctuation still goes.
    expect(text(invalidCharsStage({ keepPunctuation: false }).apply(doc(`${alnum}..`)))).toBe(
      alnum,
    );
  });
  it('gopher quality: accepts prose, rejects short, symbol-heavy, bullet lists and stop-word-free text', () => {
    const g = gopherQualityStage();
    expect(reason(g.apply(doc(GOOD)))).toBe('kept');
    expect(reason(g.apply(doc('The cat sat on the mat.')))).toBe('gopher_short_doc');
    const hashes = `${GOOD} ${'#tag '.repeat(40)}`;
    expect(reason(g.apply(doc(hashes)))).toBe('gopher_too_many_hashes');
    const bullets = Array.from(
      { length: 30 },
      (_, i) => `- item number ${i} with the value and some words`,
    ).join('\n');
    expect(reason(g.apply(doc(bullets)))).toBe('gopher_too_many_bullets');
    const noStop = Array.from({ length: 60 }, (_, i) => `apple${i % 7} banana cherry`).join(' ');
    expect(reason(g.apply(doc(noStop)))).toBe('gopher_enough_stop_words');
    const longWords = Array.from({ length: 60 }, () => 'supercalifragilistic the').join(' ');
    expect(reason(g.apply(doc(longWords)))).toBe('gopher_above_avg_word_length');
  });

  it('gopher repetition: rejects repeated lines, paragraphs and n-grams', () => {
    const g = gopherRepetitionStage();
    expect(reason(g.apply(doc(GOOD)))).toBe('kept');
    const lines = Array.from({ length: 10 }, (_, i) =>
      i % 2 ? 'Buy now and save big today!' : `Line ${i} is unique.`,
    ).join('\n');
    expect(reason(g.apply(doc(lines)))).toBe('dup_line_frac');
    const paragraphs = [
      'First part of the story.',
      'Same old paragraph here.',
      'Same old paragraph here.',
      'Same old paragraph here.',
    ].join('\n\n');
    expect(reason(g.apply(doc(paragraphs)))).toBe('dup_para_frac');
    const bigram = `${'click here '.repeat(30)}${GOOD.replace(/\n/g, ' ')}`;
    expect(reason(g.apply(doc(bigram)))).toBe('top_2_gram');
  });

  it('c4: drops lines without terminal punctuation, javascript and policy lines; rejects curly brackets and lorem ipsum', () => {
    const c = c4Stage();
    const messy = `${GOOD}\nClick here\nPlease enable JavaScript to view this page.\nThis site uses cookies to improve your experience.\nShort one.`;
    expect(text(c.apply(doc(messy)))).toBe(GOOD);
    expect(reason(c.apply(doc(`${GOOD}\nfunction f() { return 1; }`)))).toBe('c4_curly_bracket');
    expect(reason(c.apply(doc(`${GOOD}\nLorem ipsum dolor sit amet.`)))).toBe('c4_lorem_ipsum');
    expect(reason(c.apply(doc('One sentence here. Two sentences here.')))).toBe(
      'c4_too_few_sentences',
    );
    expect(text(c.apply(doc(`${GOOD} It was noted.[1] The end[edit] is near.`)))).not.toContain(
      '[1]',
    );
    expect(countSentences('A b c. D e f! G h? "Quoted."')).toBe(4);
  });

  it('fineweb: rejects lists of short lines, missing punctuation and duplicated lines', () => {
    const f = finewebStage();
    expect(reason(f.apply(doc(GOOD)))).toBe('kept');
    expect(
      reason(
        f.apply(
          doc(
            Array.from({ length: 20 }, (_, i) => `Menu entry number ${i} of the site`).join('\n'),
          ),
        ),
      ),
    ).toBe('line_punct_ratio');
    expect(
      reason(f.apply(doc(Array.from({ length: 20 }, (_, i) => `Item ${i}.`).join('\n')))),
    ).toBe('short_line_ratio');
    expect(reason(f.apply(doc(`${GOOD}\n${GOOD.split('\n')[0]}`)))).toBe('char_dup_ratio');
  });

  it('pii: replaces e-mails, IPs and phone numbers but not years or prices', () => {
    const p = piiStage();
    const r = text(
      p.apply(
        doc(
          'Mail jane.doe@example.org or call +1 415-555-0132 or (020) 7946 0958; server 192.168.1.20 and fe80::1ff:fe23:4567:890a. In 2024 it cost 1999.',
        ),
      ),
    );
    expect(r).toBe(
      'Mail <EMAIL> or call <PHONE> or <PHONE>; server <IP> and <IP>. In 2024 it cost 1999.',
    );
    expect(text(p.apply(doc('version 1.2.3.4.5 stays')))).toBe('version 1.2.3.4.5 stays');
    expect(
      text(
        p.apply(
          doc('full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 and ::1 and at 10:30:00 and a::b'),
        ),
      ),
    ).toBe('full <IP> and ::1 and at 10:30:00 and a::b');
  });

  it('language: fastText lid.176 keeps English and rejects French with a language reason', async () => {
    const l = await languageStage({ languages: ['en'] });
    const en = l.apply(doc(GOOD));
    expect(reason(en)).toBe('kept');
    expect((en as Document).meta?.language).toBe('en');
    const fr = l.apply(
      doc(
        "Le comité s'est réuni mardi pour examiner le budget de l'année prochaine et les nouveaux horaires.",
      ),
    );
    expect(reason(fr)).toBe('language_fr');
  });

  it('token length: rejects short docs and splits long ones into chunks inside the window', () => {
    // Byte-level tokenizer: one token per UTF-8 byte.
    const tokenizer = { encode: (t: string) => Buffer.from(t), vocabSize: 256 };
    const stage = tokenLengthStage({ tokenizer, target: 200, tolerance: 40 });
    expect(reason(stage.apply(doc('Too short.')))).toBe('too_few_tokens');
    const long = GOOD.repeat(4);
    const chunks = stage.apply(doc(long)) as Document[];
    expect(Array.isArray(chunks)).toBe(true);
    // Most of the text survives: only chunk remainders outside the window are dropped.
    const covered = chunks.reduce((n, c) => n + Buffer.byteLength(c.text), 0);
    expect(covered / Buffer.byteLength(long)).toBeGreaterThan(0.75);
    for (const c of chunks) {
      expect(Buffer.byteLength(c.text)).toBeGreaterThanOrEqual(160);
      expect(Buffer.byteLength(c.text)).toBeLessThanOrEqual(240);
    }
    expect(chunks.map((c) => c.id)).toContain('t#0');
  });

  it('the Cleaner counts input, output, drops and reasons per stage', () => {
    const cleaner = new Cleaner({ stages: [normalizeStage(), gopherQualityStage()] });
    expect(cleaner.process(doc(GOOD))).toHaveLength(1);
    expect(cleaner.process(doc('too short'))).toHaveLength(0);
    const stats = cleaner.report.toJSON().stages;
    expect(stats.map((s) => [s.name, s.input, s.output, s.dropped])).toEqual([
      ['normalize', 2, 2, 0],
      ['gopher_quality', 2, 1, 1],
    ]);
    expect(stats[1]!.reasons).toEqual({ gopher_short_doc: 1 });
    expect(stats[1]!.samples[0]).toMatchObject({ id: 't', reason: 'gopher_short_doc' });
  });
});
