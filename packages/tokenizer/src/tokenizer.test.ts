import { describe, expect, it } from 'vitest';
import {
  DEEPSEEK_CHAT_TEMPLATE,
  DEEPSEEK_SPECIAL_TOKENS,
  renderChatTemplate,
} from './chatTemplate.js';
import { TokenizerError } from './errors.js';
import { ADVERSARIAL, sotuDocs } from './testing/corpus.js';
import { trainBpe } from './trainer.js';

const texts = sotuDocs().slice(0, 3);

describe('Tokenizer', async () => {
  const tok = await trainBpe({
    texts,
    vocabSize: 1500,
    specialTokens: [...DEEPSEEK_SPECIAL_TOKENS],
  });

  it('batch-encodes like encode', () => {
    expect(tok.encodeBatch(ADVERSARIAL)).toEqual(ADVERSARIAL.map((s) => tok.encode(s)));
  });

  it('reports offsets that cover each token’s characters', () => {
    for (const s of ADVERSARIAL) {
      const { ids, offsets } = tok.encodeWithOffsets(s);
      expect(ids).toEqual(tok.encode(s));
      // Concatenating the spans of the tokens that start a character rebuilds the text.
      let rebuilt = '';
      let last = 0;
      for (const [a, b] of offsets) {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThanOrEqual(s.length);
        if (a >= last) {
          rebuilt += s.slice(a, b);
          last = b;
        }
      }
      expect(rebuilt).toBe(s);
    }
  });

  it('stream-decodes without ever emitting a broken character', () => {
    const text = 'Stream 😀 日本語 👨‍👩‍👧 ok';
    const ids = tok.encode(text);
    const stream = tok.createStreamDecoder();
    let out = '';
    for (const id of ids) {
      const piece = stream.push(id);
      expect(piece).not.toContain('\ufffd');
      out += piece;
    }
    out += stream.flush();
    expect(out).toBe(text);
    const cut = tok.createStreamDecoder();
    cut.push(tok.encode('😀').slice(0, 1));
    expect(cut.flush()).toBe('\ufffd');
  });

  it('maps tokens and ids both ways and knows its specials', () => {
    expect(tok.tokenToId('<｜User｜>')).toBe(3);
    expect(tok.idToToken(3)).toBe('<｜User｜>');
    expect(tok.idToToken(tok.tokenToId('Ġ')!)).toBe('Ġ');
    expect(tok.isSpecial(0)).toBe(true);
    expect(tok.decode(tok.encode('<｜User｜>hi'), { skipSpecialTokens: true })).toBe('hi');
    expect(() => tok.decode([tok.vocabSize])).toThrow(TokenizerError);
    expect(() => tok.decode([1.5])).toThrow(TokenizerError);
    expect(() => tok.decode(null as unknown as number[])).toThrow(/array of token ids/);
    expect(() => tok.encode(42 as unknown as string)).toThrow(/string or Uint8Array/);
  });

  it('matches special tokens containing regex syntax literally', async () => {
    const specials = ['<|im-start|>', 'a.b*c', '[x]{2}', '\\back/slash'];
    const odd = await trainBpe({ texts, vocabSize: 300, specialTokens: specials });
    const text = specials.join(' mid ');
    const ids = odd.encode(text);
    for (const [id, special] of specials.entries())
      expect(
        ids.filter((x) => x === id),
        special,
      ).toHaveLength(1);
    expect(odd.decode(ids)).toBe(text);
    expect(odd.encode('aXbYc')).not.toContain(1);
  });

  it('treats specials as text or rejects them on request', () => {
    const text = 'a<｜User｜>b';
    expect(tok.encode(text, { allowedSpecial: 'none' })).not.toContain(3);
    expect(tok.decode(tok.encode(text, { allowedSpecial: 'none' }))).toBe(text);
    expect(() => tok.encode(text, { allowedSpecial: 'none', disallowedSpecial: 'all' })).toThrow(
      /disallowed special token/,
    );
  });

  it('renders the built-in DeepSeek template like DeepSeek-V3’s own template', () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Bye' },
    ];
    const builtIn = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(builtIn).toBe(
      '<｜begin▁of▁sentence｜>You are terse.<｜User｜>Hi<｜Assistant｜>Hello.<｜end▁of▁sentence｜><｜User｜>Bye<｜Assistant｜>',
    );
    const ids = tok.encode(builtIn);
    expect(ids[0]).toBe(tok.bosTokenId);
    expect(ids.filter((id) => id === tok.tokenToId('<｜User｜>'))).toHaveLength(2);
    expect(
      renderChatTemplate(DEEPSEEK_CHAT_TEMPLATE, messages.slice(1, 2), { bosToken: '<s>' }),
    ).toBe('<s><｜User｜>Hi');
    expect(() => renderChatTemplate('{% if %}', messages)).toThrow(/chat template failed/);
  });
});
