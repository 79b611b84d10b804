import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

/** Stores finished responses of deterministic requests (greedy, or seeded) by a request hash. */
export interface ResponseCache {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** A stable key: SHA-256 of the route and the canonical JSON of the request (keys sorted). */
export function responseCacheKey(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\0').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** In-process LRU bounded by entry count and total characters. */
export class LruResponseCache implements ResponseCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, string>();
  private size = 0;

  constructor(private readonly options: { maxEntries?: number; maxChars?: number } = {}) {}

  async get(key: string): Promise<string | undefined> {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key); // re-insert: Map order is recency order
    this.entries.set(key, value);
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.size -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.size += value.length;
    const maxEntries = this.options.maxEntries ?? 1024;
    const maxChars = this.options.maxChars ?? 64 * 1024 * 1024;
    for (const [k, v] of this.entries) {
      if (this.entries.size <= maxEntries && this.size <= maxChars) break;
      this.entries.delete(k);
      this.size -= v.length;
    }
  }

  get length(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.size = 0;
  }
}

/** Redis-backed cache shared by every worker and replica; entries expire after `ttlSeconds`. */
export class RedisResponseCache implements ResponseCache {
  readonly kind = 'redis' as const;
  private readonly client: Redis;

  constructor(private readonly options: { url: string; ttlSeconds?: number; keyPrefix?: string }) {
    this.client = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true });
    // Errors surface on the commands; an unhandled 'error' event would crash the process.
    this.client.on('error', () => {});
  }

  private key(key: string): string {
    return `${this.options.keyPrefix ?? 'deepline:response:'}${key}`;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.client.get(this.key(key))) ?? undefined;
    } catch {
      return undefined; // a cache outage degrades to a miss, never to a failed request
    }
  }

  async set(key: string, value: string): Promise<void> {
    try {
      await this.client.set(this.key(key), value, 'EX', this.options.ttlSeconds ?? 3600);
    } catch {
      // same: ignore
    }
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** Redis when `redisUrl` (or REDIS_URL) is set, otherwise the in-memory LRU. */
export function createResponseCache(options: { redisUrl?: string; maxEntries?: number; ttlSeconds?: number } = {}): ResponseCache {
  const url = options.redisUrl ?? process.env.REDIS_URL;
  return url ? new RedisResponseCache({ url, ttlSeconds: options.ttlSeconds }) : new LruResponseCache({ maxEntries: options.maxEntries });
}
