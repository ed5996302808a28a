import { BoundedCache, type CacheStats, type CacheStatsSource } from "../../shared-kernel/bounded-cache.js";
import type { UserProfile } from "../domain/user.js";

/** The claims a user is provisioned from: the profile, and whether the token vouches for the email. */
export interface ProvisionedClaims extends UserProfile {
  readonly emailVerified: boolean;
}

/**
 * The claims last written for each user, so that a request whose claims did not change costs no
 * database round trip at all. Bounded (least recently used first out) and short-lived: another instance
 * may have written newer claims, or recorded an invitation for the user's email, and an entry that
 * expires simply costs one no-op upsert (which also binds such invitations).
 *
 * An invitation recorded in this process forgets the entries of its email at once. Provisionings
 * in flight at that moment are not remembered (see `epoch`), so none of them can mask it.
 */
interface Provisioned {
  /** The claims as written. */
  readonly key: string;
  readonly email: string | null;
}

export class ProvisionedUserCache implements CacheStatsSource {
  private readonly entries: BoundedCache<string, Provisioned>;
  private invitations = 0;

  /** @param now the clock of the age bound (tests) */
  constructor(maxEntries = 10_000, ttlMs = 5 * 60_000, now?: () => number) {
    // Entries are a few KiB at most (each claim is at most 255 characters): the entry bound is the byte bound.
    this.entries = new BoundedCache({ name: "provisioned_users", maxEntries, ttlMs, ...(now ? { now } : {}) });
  }

  stats(): CacheStats {
    return this.entries.stats();
  }

  /** Taken before provisioning and handed to `remember`: it moves with every invitation. */
  get epoch(): number {
    return this.invitations;
  }

  isCurrent(claims: ProvisionedClaims): boolean {
    const key = keyOf(claims);
    // Changed claims are a miss: they are provisioned, and remembered in place of these.
    return this.entries.get(claims.id, (entry) => entry.key === key) !== undefined;
  }

  /** Remembers claims provisioned since `epoch`, unless an invitation was recorded meanwhile. */
  remember(claims: ProvisionedClaims, epoch: number): void {
    if (epoch !== this.invitations) return;
    this.entries.set(claims.id, { key: keyOf(claims), email: claims.email?.toLowerCase() ?? null });
  }

  forget(userId: string): void {
    this.entries.delete(userId);
  }

  /**
   * An invitation for `email` (lower-cased) was recorded: its users provision again on their next
   * request, which binds it. Invitations are rare; the scan is bounded by the cache size.
   */
  invited(email: string): void {
    this.invitations++;
    this.entries.deleteWhere((entry) => entry.email === email);
  }
}

function keyOf(claims: ProvisionedClaims): string {
  return JSON.stringify([claims.username, claims.name, claims.email, claims.emailVerified]);
}
