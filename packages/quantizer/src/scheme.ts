import { fail } from './errors.js';

/** How one weight is quantized. */
export interface QuantScheme {
  /** Canonical name, e.g. `int8`, `int4-g32`, `int4-g128-asym`, `gptq-int4-g32`. */
  name: string;
  bits: 8 | 4;
  /** Input columns per scale (int4 only). */
  groupSize?: number;
  symmetric: boolean;
  /** Round-to-nearest, or GPTQ error compensation from calibration data (int4 only). */
  method: 'rtn' | 'gptq';
}

/** Scheme names the CLI and `parseScheme` accept. */
export const SCHEME_NAMES = [
  'int8',
  'int4-g32',
  'int4-g64',
  'int4-g128',
  'int4-g32-asym',
  'int4-g64-asym',
  'int4-g128-asym',
  'gptq-int4-g32',
  'gptq-int4-g64',
  'gptq-int4-g128',
  'gptq-int4-g32-asym',
  'gptq-int4-g64-asym',
  'gptq-int4-g128-asym',
] as const;

const INT4 = /^(gptq-)?int4-g(32|64|128)(-asym)?$/;

/** Parses a scheme name (see SCHEME_NAMES); errors list the accepted names. */
export function parseScheme(name: string): QuantScheme {
  if (name === 'int8') return { name, bits: 8, symmetric: true, method: 'rtn' };
  const m = INT4.exec(name);
  if (!m) fail('BAD_SCHEME', `unknown quantization scheme '${name}' (known: ${SCHEME_NAMES.join(', ')})`, { field: 'scheme' });
  return { name, bits: 4, groupSize: Number(m[2]), symmetric: m[3] === undefined, method: m[1] ? 'gptq' : 'rtn' };
}

/** One rule: weights whose HF name matches `pattern` get `scheme`, or stay float32. */
export interface QuantRule {
  /** A RegExp, or a glob over the HF name where `*` matches any run of characters. */
  pattern: RegExp | string;
  scheme: QuantScheme | 'float';
}

/**
 * Default rules: embeddings, norms and the MoE router stay float32 (the router picks experts,
 * so its error changes which experts run). Only Linear weights are ever quantized, so
 * embeddings and norms never reach the rules anyway; they are listed for clarity.
 */
export const DEFAULT_FLOAT_RULES: readonly QuantRule[] = [
  { pattern: /embed_tokens/, scheme: 'float' },
  { pattern: /norm\.weight$/, scheme: 'float' },
  { pattern: /\.mlp\.gate\.weight$/, scheme: 'float' },
  { pattern: /e_score_correction_bias$/, scheme: 'float' },
];

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** The scheme of one weight: the first matching rule wins, then the default scheme. */
export function schemeFor(name: string, rules: readonly QuantRule[], fallback: QuantScheme): QuantScheme | 'float' {
  for (const rule of rules) {
    const re = typeof rule.pattern === 'string' ? globToRegExp(rule.pattern) : rule.pattern;
    if (re.test(name)) return rule.scheme;
  }
  return fallback;
}
