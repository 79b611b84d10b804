import { TrackingError } from './errors.js';
import { LIMITS } from './limits.js';
import type { Metric } from './types.js';

/** proto3 JSON for a double: non-finite values travel as the strings MLflow accepts. */
export function encodeDouble(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

/** Reads a proto3 JSON double back (numbers, or 'NaN'/'Infinity'/'-Infinity' strings). */
export function decodeDouble(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return Number.NaN;
}

/** int64s arrive as JSON numbers or strings. */
export function decodeInt(value: unknown, fallback = 0): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return fallback;
}

/**
 * Python's `str(float)`, which MLflow's FileStore writes in metric files: shortest
 * round-trip digits, fixed notation for exponents in [-4, 16), `1e-05`-style otherwise,
 * `.0` on integral values, and `nan`/`inf`/`-inf`.
 */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const frac = digits.slice(exponent + 1);
    return `${sign}${intPart}.${frac === '' ? '0' : frac}`;
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expSign = exponent < 0 ? '-' : '+';
  return `${sign}${mant}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Parses a FileStore metric value (Python float syntax, including nan/inf). */
export function parsePythonFloat(text: string): number {
  const lower = text.trim().toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return Number.NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  const value = Number(lower);
  if (lower === '' || Number.isNaN(value)) throw new TrackingError(`not a float: '${text}'`, { code: 'MALFORMED_FILE', context: { field: 'value' } });
  return value;
}

// Python's `\w` is Unicode-aware, so letters, digits and marks of any script pass.
const KEY_PATTERN = /^[/\p{L}\p{N}\p{M}_.\- :]*$/u;

/** Why MLflow would reject this metric/param/tag key, or undefined when it is valid. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'must be a non-empty string';
  if (key.length > LIMITS.keyLength) return `is ${key.length} characters (MLflow allows ${LIMITS.keyLength})`;
  if (!KEY_PATTERN.test(key)) return 'may only contain alphanumerics, underscores, dashes, periods, spaces, colons and slashes';
  // MLflow rejects keys that normalise to another path ('a/../b', './a', '/a', 'a//b').
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) return 'must be a normalised relative path';
  return undefined;
}

/** Throws one TrackingError naming every invalid key. */
export function validateKeys(kind: 'metric' | 'param' | 'tag', keys: string[]): void {
  const bad = keys.map((k) => [k, keyProblem(k)] as const).filter(([, p]) => p !== undefined);
  if (bad.length === 0) return;
  throw new TrackingError(`invalid ${kind} key${bad.length > 1 ? 's' : ''}: ${bad.map(([k, p]) => `'${k}' ${p}`).join('; ')}`, {
    code: 'INVALID_KEY',
    context: { keys: bad.map(([k]) => k), field: kind, error_code: 'INVALID_PARAMETER_VALUE' },
  });
}

/**
 * MLflow truncates over-long param/tag values silently; we refuse them instead, listing
 * every offending key with its length so nothing is cut without the caller knowing.
 */
export function validateValueLengths(kind: 'param' | 'tag', values: Record<string, string>): void {
  const limit = kind === 'param' ? LIMITS.paramValue : LIMITS.tagValue;
  const bad = Object.entries(values).filter(([, v]) => v.length > limit);
  if (bad.length === 0) return;
  throw new TrackingError(
    `${kind} value${bad.length > 1 ? 's' : ''} over MLflow's ${limit}-character limit (would be truncated): ${bad.map(([k, v]) => `${k} (${v.length} chars)`).join(', ')}`,
    { code: 'VALUE_TOO_LONG', context: { keys: bad.map(([k]) => k), field: kind, limit, error_code: 'INVALID_PARAMETER_VALUE' } },
  );
}

/** Param values as MLflow stores them (strings). */
export function stringifyParams(params: Record<string, string | number | boolean>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TrackingError(`param '${key}' must be a string, number or boolean, got ${value === null ? 'null' : typeof value}`, {
        code: 'INVALID_VALUE',
        context: { keys: [key], field: 'param' },
      });
    }
    out[key] = String(value);
  }
  return out;
}

/** Checks a metric point; throws naming the key when the value or step is not a number. */
export function validateMetric(metric: Metric): void {
  if (typeof metric.value !== 'number') {
    throw new TrackingError(`metric '${metric.key}' value must be a number, got ${typeof metric.value}`, {
      code: 'INVALID_VALUE',
      context: { keys: [metric.key], field: 'value' },
    });
  }
  if (!Number.isInteger(metric.step) || !Number.isInteger(metric.timestamp)) {
    throw new TrackingError(`metric '${metric.key}' step and timestamp must be integers (got step ${metric.step}, timestamp ${metric.timestamp})`, {
      code: 'INVALID_VALUE',
      context: { keys: [metric.key], field: 'step' },
    });
  }
}
