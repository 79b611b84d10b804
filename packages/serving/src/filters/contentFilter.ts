/** A filter's decision; `rule` names what matched (for logs and the error message). */
export interface FilterVerdict {
  blocked: boolean;
  rule?: string;
}

/**
 * Hook run on every prompt (input) and on the generated text as it grows (output).
 * A blocked input is refused with a 400; a blocked output ends generation with
 * `finish_reason: "content_filter"` before the offending text is sent.
 */
export interface ContentFilter {
  checkInput(text: string): FilterVerdict;
  checkOutput(text: string): FilterVerdict;
}

export interface BlocklistFilterOptions {
  /** Case-insensitive literal phrases, matched on word boundaries. */
  phrases?: readonly string[];
  /** Regular expressions (source strings or RegExp objects). */
  patterns?: ReadonlyArray<string | RegExp>;
  /** Apply to prompts (default true). */
  input?: boolean;
  /** Apply to generated text (default true). */
  output?: boolean;
}

/** Rule-based blocklist: literal phrases and regular expressions. */
export class BlocklistFilter implements ContentFilter {
  private readonly rules: Array<{ name: string; regex: RegExp }>;
  private readonly options: BlocklistFilterOptions;

  constructor(options: BlocklistFilterOptions) {
    this.options = options;
    const phrases = (options.phrases ?? []).filter((p) => p.trim().length > 0);
    this.rules = [
      ...phrases.map((p) => ({ name: p, regex: new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegex(p.trim())}(?![\\p{L}\\p{N}])`, 'iu') })),
      ...(options.patterns ?? []).map((p) => (typeof p === 'string' ? { name: p, regex: new RegExp(p, 'iu') } : { name: p.source, regex: p })),
    ];
  }

  /** Parses a blocklist file: one phrase per line, `re:` prefix for a regex, `#` comments. */
  static fromText(text: string): BlocklistFilter {
    const phrases: string[] = [];
    const patterns: string[] = [];
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('re:')) patterns.push(line.slice(3).trim());
      else phrases.push(line);
    }
    return new BlocklistFilter({ phrases, patterns });
  }

  checkInput(text: string): FilterVerdict {
    return this.options.input === false ? { blocked: false } : this.match(text);
  }

  checkOutput(text: string): FilterVerdict {
    return this.options.output === false ? { blocked: false } : this.match(text);
  }

  private match(text: string): FilterVerdict {
    for (const rule of this.rules) if (rule.regex.test(text)) return { blocked: true, rule: rule.name };
    return { blocked: false };
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
