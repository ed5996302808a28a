/**
 * Serialized group lists of recently listed tenants, each with the group-list version it shows.
 * Serializing a large tenant's groups (100,000 members is 4 MiB of JSON) costs more than the rest
 * of the request; while the version stands, the same bytes are the right answer. Bounded by total
 * size, least recently used first out.
 */
import { BoundedCache, type CacheStats, type CacheStatsSource } from "../../shared-kernel/bounded-cache.js";

export const DEFAULT_MAX_CHARS = 32 * 1024 * 1024;
/** Tenants whose lists are kept at most (the size bound usually decides first). */
const MAX_TENANTS = 10_000;

interface Kept {
  readonly version: number;
  readonly body: string;
}

export class GroupListBodies implements CacheStatsSource {
  private readonly kept: BoundedCache<string, Kept>;

  constructor(maxChars = DEFAULT_MAX_CHARS) {
    this.kept = new BoundedCache<string, Kept>({ name: "group_lists", maxEntries: MAX_TENANTS, maxBytes: maxChars, sizeOf: (kept) => kept.body.length });
  }

  stats(): CacheStats {
    return this.kept.stats();
  }

  /** The version of the body kept for the tenant, if any. */
  versionOf(tenantId: string): number | null {
    return this.kept.peek(tenantId)?.version ?? null;
  }

  /** The body kept for the tenant at exactly this version. */
  get(tenantId: string, version: number): string | undefined {
    return this.kept.get(tenantId, (kept) => kept.version === version)?.body;
  }

  put(tenantId: string, version: number, body: string): void {
    this.kept.set(tenantId, { version, body });
  }
}
