import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer, startRedisServer } from '../testing/redisServer.js';
import { LruResponseCache, RedisResponseCache, createResponseCache, responseCacheKey } from './responseCache.js';

describe('responseCacheKey', () => {
  it('ignores key order but not values', () => {
    expect(responseCacheKey('/c', { a: 1, b: [1, { x: 2, y: 3 }] })).toBe(responseCacheKey('/c', { b: [1, { y: 3, x: 2 }], a: 1 }));
    expect(responseCacheKey('/c', { a: 1 })).not.toBe(responseCacheKey('/c', { a: 2 }));
    expect(responseCacheKey('/c', { a: 1 })).not.toBe(responseCacheKey('/d', { a: 1 }));
  });
});

describe('LruResponseCache', () => {
  it('evicts the least recently used entry', async () => {
    const cache = new LruResponseCache({ maxEntries: 2 });
    await cache.set('a', '1');
    await cache.set('b', '2');
    expect(await cache.get('a')).toBe('1'); // a is now the most recent
    await cache.set('c', '3');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe('1');
    expect(await cache.get('c')).toBe('3');
    expect(cache.length).toBe(2);
  });

  it('bounds the total size in characters', async () => {
    const cache = new LruResponseCache({ maxChars: 10 });
    await cache.set('a', 'xxxxxx');
    await cache.set('b', 'yyyyyy');
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBe('yyyyyy');
  });
});

describe.skipIf(!hasRedisServer())('RedisResponseCache (real redis-server)', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('round-trips values and is chosen when a URL is given', async () => {
    const cache = createResponseCache({ redisUrl: redis.url });
    expect(cache.kind).toBe('redis');
    expect(await cache.get('missing')).toBeUndefined();
    await cache.set('k', '{"ok":true}');
    expect(await cache.get('k')).toBe('{"ok":true}');
    // A second client (another worker) sees the same entry.
    const other = new RedisResponseCache({ url: redis.url });
    expect(await other.get('k')).toBe('{"ok":true}');
    await Promise.all([cache.close(), other.close()]);
  });
});

describe('createResponseCache', () => {
  it('defaults to memory', () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    expect(createResponseCache().kind).toBe('memory');
    if (saved !== undefined) process.env.REDIS_URL = saved;
  });
});
