import { describe, expect, it } from 'vitest';
import { TextStream } from './textStream.js';

// A byte-level "tokenizer": every id is one UTF-8 byte, so characters split across ids.
const decode = (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids));
const bytes = (text: string) => Array.from(new TextEncoder().encode(text));

function run(text: string, stop?: string[]) {
  const stream = new TextStream({ decode, stop });
  const deltas: string[] = [];
  let stopped = false;
  for (const id of bytes(text)) {
    const r = stream.push(id);
    deltas.push(r.delta);
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) deltas.push(stream.flush());
  return { deltas, joined: deltas.join(''), stopped };
}

describe('TextStream', () => {
  it('reassembles multi-byte characters split across tokens without emitting U+FFFD', () => {
    const { deltas, joined } = run('héllo 世界 🙂!');
    expect(joined).toBe('héllo 世界 🙂!');
    expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
  });

  it('cuts at a stop string spanning several tokens and never emits it', () => {
    const { joined, stopped, deltas } = run('abc STOP def', ['STOP']);
    expect(stopped).toBe(true);
    expect(joined).toBe('abc ');
    expect(deltas.join('')).not.toContain('S');
  });

  it('releases a held-back partial match when it turns out not to be a stop', () => {
    const { joined, stopped } = run('a STAR STOP', ['STOP']);
    expect(stopped).toBe(true);
    expect(joined).toBe('a STAR ');
  });

  it('picks the earliest of several stop strings and handles a stop at the very start', () => {
    expect(run('xx<end>yy##', ['##', '<end>']).joined).toBe('xx');
    expect(run('##abc', ['##']).joined).toBe('');
  });

  it('flush returns a partial stop left at the end', () => {
    const r = run('abc ST', ['STOP']);
    expect(r.stopped).toBe(false);
    expect(r.joined).toBe('abc ST');
  });
});
