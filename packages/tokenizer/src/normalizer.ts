import { fieldError } from './errors.js';
import { compilePattern, escapeRegExp } from './pattern.js';

/** A compiled tokenizer.json `normalizer`; undefined when it does nothing. */
export type NormalizeFn = (text: string) => string;

/**
 * Compiles the normalizers byte-level tokenizers use (NFC/NFD/NFKC/NFKD, Lowercase, Replace,
 * Prepend, Strip, Sequence). Returns undefined for null or an empty Sequence so the encoder
 * can skip normalization entirely.
 */
export function compileNormalizer(
  json: unknown,
  field = 'normalizer',
  file?: string,
): NormalizeFn | undefined {
  if (json === null || json === undefined) return undefined;
  if (typeof json !== 'object') throw fieldError(field, 'expected an object or null', { file });
  const o = json as Record<string, unknown>;
  switch (o.type) {
    case 'Sequence': {
      if (!Array.isArray(o.normalizers))
        throw fieldError(`${field}.normalizers`, 'expected an array', { file });
      const parts = o.normalizers
        .map((n, i) => compileNormalizer(n, `${field}.normalizers[${i}]`, file))
        .filter((f): f is NormalizeFn => f !== undefined);
      if (parts.length === 0) return undefined;
      return (text) => parts.reduce((t, f) => f(t), text);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = o.type;
      return (text) => text.normalize(form);
    }
    case 'Lowercase':
      return (text) => text.toLowerCase();
    case 'Prepend': {
      if (typeof o.prepend !== 'string')
        throw fieldError(`${field}.prepend`, 'expected a string', { file });
      const prepend = o.prepend;
      return (text) => (text.length > 0 ? prepend + text : text);
    }
    case 'Strip': {
      const left = o.strip_left !== false;
      const right = o.strip_right !== false;
      return (text) =>
        left && right ? text.trim() : left ? text.trimStart() : right ? text.trimEnd() : text;
    }
    case 'Replace': {
      const pattern = o.pattern as Record<string, unknown> | undefined;
      if (typeof o.content !== 'string')
        throw fieldError(`${field}.content`, 'expected a string', { file });
      let regex: RegExp;
      if (pattern && typeof pattern.Regex === 'string') regex = compilePattern(pattern.Regex);
      else if (pattern && typeof pattern.String === 'string')
        regex = new RegExp(escapeRegExp(pattern.String), 'gu');
      else
        throw fieldError(`${field}.pattern`, 'expected {"Regex": string} or {"String": string}', {
          file,
        });
      const content = o.content;
      return (text) => text.replace(regex, () => content);
    }
    default:
      throw fieldError(`${field}.type`, `unsupported normalizer ${JSON.stringify(o.type)}`, {
        file,
      });
  }
}
