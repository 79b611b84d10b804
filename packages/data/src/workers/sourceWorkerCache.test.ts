import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCachedBundle, writeCachedBundle } from './sourceWorkerCache.js';

let dir = '';
beforeAll(async () => {
  dir = await makeTempDir('worker-cache');
});
afterAll(() => removeDir(dir));

describe('source-mode worker bundle cache', () => {
  it('returns the bundle until an input file or the key changes', () => {
    const input = join(dir, 'stage.ts');
    writeFileSync(input, 'export const a = 1;');
    const cache = join(dir, 'cache');
    expect(readCachedBundle(cache, 'k')).toBeUndefined();
    writeCachedBundle(cache, 'k', 'bundle-1', [input]);
    expect(readCachedBundle(cache, 'k')).toBe('bundle-1');
    expect(readCachedBundle(cache, 'other checkout')).toBeUndefined();
    // An edit (new size) invalidates it; so does a touch with the same size.
    writeFileSync(input, 'export const a = 22;');
    expect(readCachedBundle(cache, 'k')).toBeUndefined();
    writeCachedBundle(cache, 'k', 'bundle-2', [input]);
    expect(readCachedBundle(cache, 'k')).toBe('bundle-2');
    utimesSync(input, new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(readCachedBundle(cache, 'k')).toBeUndefined();
    // A deleted input, and a cache directory that cannot be written, are misses, not errors.
    writeCachedBundle(cache, 'k', 'bundle-3', [join(dir, 'gone.ts')]);
    expect(readCachedBundle(cache, 'k')).toBeUndefined();
    expect(() => writeCachedBundle(join(input, 'not-a-dir'), 'k', 'x', [input])).not.toThrow();
  });
});
