/**
 * The one in-process cache of the service: least-recently-used eviction (lru-cache) bounded by
 * entries, optionally by bytes and by age, with hit, miss and eviction counts that `/metrics`
 * reports per cache. Every cache that trades a database read, a SpiceDB call or a signature check
 * for memory goes through here, so each has the same eviction rule and shows up in the same place.
 *
 * The counters are plain numbers read on scrape: the hot path (a decision-cache hit) pays an
 * increment, not a metrics-library call.
 */
import { LRUCache } from "lru-cache";

export interface BoundedCacheOptions<K, V> {
  /** The `cache` label in /metrics; one name per cache of a process. */
  readonly name: string;
  readonly maxEntries: number;
  /** With `sizeOf`: the most the entries may weigh together (bytes, or the unit `sizeOf` counts). */
  readonly maxBytes?: number;
  /** An entry's weight; an entry heavier than `maxBytes` is not kept at all. */
  readonly sizeOf?: (value: V, key: K) => number;
  /** Entries older than this (age > ttl) are gone; per entry, `set` may ask for less. */
  readonly ttlMs?: number;
  /** The clock of the age bound, for tests (milliseconds, any origin). */
  readonly now?: () => number;
}

export interface CacheStats {
  readonly name: string;
  readonly hits: number;
  readonly misses: number;
  /** Entries pushed out to respect a bound (expired or replaced ones are not counted). */
  readonly evictions: number;
  readonly entries: number;
  /** Total weight of the entries (0 without `sizeOf`). */
  readonly bytes: number;
}

/** What /metrics reads: anything that can say its counts. */
export interface CacheStatsSource {
  stats(): CacheStats;
}

export class BoundedCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>> implements CacheStatsSource {
  readonly name: string;
  private readonly entries: LRUCache<K, V>;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: BoundedCacheOptions<K, V>) {
    this.name = options.name;
    const sizing =
      options.sizeOf !== undefined && options.maxBytes !== undefined
        ? { maxSize: options.maxBytes, maxEntrySize: options.maxBytes, sizeCalculation: (value: V, key: K) => Math.max(1, options.sizeOf?.(value, key) ?? 1) }
        : {};
    const clock = options.now;
    this.entries = new LRUCache<K, V>({
      max: Math.max(1, options.maxEntries),
      ...sizing,
      ...(options.ttlMs !== undefined ? { ttl: options.ttlMs } : {}),
      // lru-cache otherwise reuses a reading of the clock for 1 ms, which a test clock would not see move.
      ...(clock !== undefined ? { perf: { now: clock }, ttlResolution: 0 } : {}),
      dispose: (_value, _key, reason) => {
        if (reason === "evict") this.evictions++;
      },
    });
  }

  /**
   * The value kept for `key`, if there is one and `usable` accepts it (a hit); otherwise undefined
   * (a miss). `usable` is where a cache states what makes an entry stale beyond its age (e.g. the
   * revision it was computed at). A refused entry stays until it is replaced or evicted: a reader
   * holding an older revision must not drop what a newer one stored.
   */
  get(key: K, usable?: (value: V) => boolean): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined && (usable === undefined || usable(value))) {
      this.hits++;
      return value;
    }
    this.misses++;
    return undefined;
  }

  /** Like `get`, without counting or refreshing recency (for bookkeeping, not for answers). */
  peek(key: K): V | undefined {
    return this.entries.peek(key);
  }

  /** Keeps `value`; `ttlMs` shortens its life below the cache's (0 or less: not kept). */
  set(key: K, value: V, ttlMs?: number): void {
    if (ttlMs !== undefined && ttlMs <= 0) {
      this.entries.delete(key);
      return;
    }
    this.entries.set(key, value, ttlMs !== undefined ? { ttl: ttlMs } : undefined);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Drops every entry matching `predicate` (a scan: for rare events such as an invitation). */
  deleteWhere(predicate: (value: V, key: K) => boolean): void {
    const doomed: K[] = [];
    for (const [key, value] of this.entries.entries()) if (predicate(value, key)) doomed.push(key);
    for (const key of doomed) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): CacheStats {
    return {
      name: this.name,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      entries: this.entries.size,
      bytes: this.entries.calculatedSize,
    };
  }
}
