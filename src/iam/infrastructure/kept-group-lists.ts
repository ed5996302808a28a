/**
 * The whole group lists of recently listed tenants, each with the group-list version it shows.
 * Reading and hydrating a large tenant's groups (1,000 groups of 100 members) costs far more than
 * reading its version; while the version stands, the kept list is the right answer, in this
 * process and in any other (the version lives in the database). Bounded by entries and by the
 * members kept, least recently used first out.
 */
import { BoundedCache, type CacheStats, type CacheStatsSource } from "../../shared-kernel/bounded-cache.js";
import type { GroupRecord } from "../ports/group-repository.js";

/** Members kept over all lists (100,000 members weigh about 10 MiB in memory). */
export const DEFAULT_MAX_MEMBERS = 1_000_000;
/** Tenants whose lists are kept at most (the member bound usually decides first). */
const MAX_TENANTS = 10_000;

interface Kept {
  readonly version: number;
  readonly groups: readonly GroupRecord[];
}

export class KeptGroupLists implements CacheStatsSource {
  private readonly kept: BoundedCache<string, Kept>;

  constructor(maxMembers = DEFAULT_MAX_MEMBERS) {
    this.kept = new BoundedCache<string, Kept>({
      name: "group_lists",
      maxEntries: MAX_TENANTS,
      maxBytes: maxMembers,
      // One per group as well, so that a tenant of many empty groups still weighs something.
      sizeOf: (kept) => kept.groups.reduce((sum, group) => sum + 1 + group.members.length, 0),
    });
  }

  stats(): CacheStats {
    return this.kept.stats();
  }

  /** The list kept for the tenant at exactly this version. */
  get(tenantId: string, version: number): readonly GroupRecord[] | undefined {
    return this.kept.get(tenantId, (kept) => kept.version === version)?.groups;
  }

  /** Keeps the list, unless a list of a later version is kept already (a slower reader's). */
  put(tenantId: string, version: number, groups: readonly GroupRecord[]): void {
    if ((this.kept.peek(tenantId)?.version ?? -1) > version) return;
    this.kept.set(tenantId, { version, groups });
  }
}
