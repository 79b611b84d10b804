import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_LIMITS, splitBatch } from '../src/batching.js';
import { decodeDouble, encodeDouble, keyProblem, parsePythonFloat, pythonFloatRepr, validateKeys, validateValueLengths } from '../src/encoding.js';
import { TrackingError } from '../src/errors.js';
import { parseRetryAfter } from '../src/restTransport.js';
import type { Metric } from '../src/types.js';

describe('encoding', () => {
  it("writes floats exactly as Python's str() does (what MLflow's FileStore writes)", () => {
    // Expected strings are CPython's repr() of the same doubles.
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1, '1.0'],
      [-2.5, '-2.5'],
      [0, '0.0'],
      [-0, '-0.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1.5e-7, '1.5e-07'],
      [1e16, '1e+16'],
      [1234567890123456.0, '1234567890123456.0'],
      [1.2345678901234567e19, '1.2345678901234567e+19'],
      [123.456, '123.456'],
      [1 / 3, '0.3333333333333333'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NEGATIVE_INFINITY, '-inf'],
    ];
    for (const [value, text] of cases) {
      expect(pythonFloatRepr(value)).toBe(text);
      expect(Object.is(parsePythonFloat(text), value) || (Number.isNaN(value) && Number.isNaN(parsePythonFloat(text)))).toBe(true);
    }
    expect(() => parsePythonFloat('abc')).toThrow(TrackingError);
  });

  it('encodes non-finite doubles as the strings MLflow accepts and decodes both forms', () => {
    expect([Number.NaN, Infinity, -Infinity, 2].map(encodeDouble)).toEqual(['NaN', 'Infinity', '-Infinity', 2]);
    expect(decodeDouble('-Infinity')).toBe(-Infinity);
    expect(decodeDouble('1.5')).toBe(1.5);
    expect(decodeDouble(3)).toBe(3);
  });

  it("validates keys like MLflow's server", () => {
    for (const ok of ['loss', 'train/loss', 'a.b-c d:e', 'ключ', 'x'.repeat(250)]) expect(keyProblem(ok)).toBeUndefined();
    for (const bad of ['', 'a/../b', './a', '/a', 'a//b', 'x'.repeat(251), 'a*b', 'a\nb']) expect(keyProblem(bad)).toBeDefined();
    const error = (() => {
      try {
        validateKeys('metric', ['ok', 'a*b', '/x']);
      } catch (e) {
        return e as TrackingError;
      }
    })();
    expect(error?.context.keys).toEqual(['a*b', '/x']);
    expect(error?.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('reports every over-long param value instead of letting the server truncate it', () => {
    const values = { short: 'x', long1: 'y'.repeat(6001), long2: 'z'.repeat(7000), edge: 'w'.repeat(6000) };
    try {
      validateValueLengths('param', values);
      expect.unreachable();
    } catch (e) {
      const error = e as TrackingError;
      expect(error.code).toBe('VALUE_TOO_LONG');
      expect(error.context.keys).toEqual(['long1', 'long2']);
      expect(error.message).toContain('long1 (6001 chars)');
      expect(error.message).toContain('long2 (7000 chars)');
    }
    expect(() => validateValueLengths('tag', { t: 'v'.repeat(8000) })).not.toThrow();
    expect(() => validateValueLengths('tag', { t: 'v'.repeat(8001) })).toThrow(/8000/);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('splitBatch', () => {
  it("keeps every request within MLflow's log-batch limits, losing and reordering nothing", () => {
    const metrics: Metric[] = Array.from({ length: 2500 }, (_, i) => ({ key: `m${i % 7}`, value: i, timestamp: i, step: i }));
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, String(i)]));
    const tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, String(i)]));
    const requests = splitBatch({ metrics, params, tags });
    for (const r of requests) {
      const n = { m: r.metrics.length, p: Object.keys(r.params).length, t: Object.keys(r.tags).length };
      expect(n.m).toBeLessThanOrEqual(1000);
      expect(n.p).toBeLessThanOrEqual(100);
      expect(n.t).toBeLessThanOrEqual(100);
      expect(n.m + n.p + n.t).toBeLessThanOrEqual(1000);
      expect(JSON.stringify(r).length).toBeLessThan(1_000_000);
    }
    expect(requests.flatMap((r) => r.metrics)).toEqual(metrics);
    expect(Object.assign({}, ...requests.map((r) => r.params))).toEqual(params);
    expect(Object.assign({}, ...requests.map((r) => r.tags))).toEqual(tags);
    // 250 params need 3 requests, 150 tags 2 more at least, 2500 metrics 3 more at least.
    expect(requests.length).toBeGreaterThanOrEqual(5);
  });

  it('splits by body size when long values would pass 1 MB', () => {
    const params = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, 'v'.repeat(6000)]));
    const tags = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`t${i}`, 'w'.repeat(8000)]));
    const requests = splitBatch({ metrics: [], params, tags }, DEFAULT_BATCH_LIMITS);
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(1_000_000);
  });
});
